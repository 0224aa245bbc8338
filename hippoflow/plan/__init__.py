"""Planning: what the raw tree holds and which jobs the workflow derives from it.

Inputs: the raw tree ``<data_root>/<subject>/<day>/<session>/`` (only ``.ns5`` headers are
read, plus directory listings for ``.nev``, Unity logs and EyeLink files) and the config's
selections. Outputs: a :class:`Plan` with the session table, channel sets, each day-channel's
sessions, the problems found while planning, and the target paths of every domain, relative
to the output root.

Used at workflow parse time, which every cluster job repeats, so nothing here reads signal
data.  Nothing in the raw tree's content stops planning: problems (a dangling symlink, a file
that is not a readable regular file, an unreadable header, two .ns5 files, a .nev/.ns5 pair
of different file specs, an unknown channel, a missing or extra Unity log, a selected day or
subject that does not exist) are recorded, not raised: the workflow turns each into a failing
job of its own (``rules/problems.smk``), and the jobs that do not need the file are still
planned.  Gaps that may be deliberate (a session without .nev or .ns5, folders that look like
days or sessions but do not match the level patterns) are :attr:`Plan.warnings`, shown when
planning and in the run summary (:mod:`hippoflow.summary`).
``rules/common.smk`` only wraps this package for Snakemake.

One concern per module: :mod:`~hippoflow.plan.files` (raw files checked from their metadata),
:mod:`~hippoflow.plan.channels` (.ns5 headers and the channel selection),
:mod:`~hippoflow.plan.discovery` (the folder walk), :mod:`~hippoflow.plan.problems`
(problems and warnings beyond a session's own files), :mod:`~hippoflow.plan.targets` (the
:class:`Plan`: job inputs and targets) and :mod:`~hippoflow.plan.stale` (outputs of a raw file that has changed since) and
:mod:`~hippoflow.plan.resources` (Slurm sizing).
This module assembles them (:func:`make_plan`).
"""

from __future__ import annotations

from collections.abc import Mapping

from hippoflow.config import output_root
from hippoflow.plan.channels import header_channels
from hippoflow.plan.discovery import Session, discover
from hippoflow.plan.files import eyelink_files, file_problem, nev_version
from hippoflow.plan.problems import (
    PROBLEM_PREFIX,
    eye_files,
    missing_selections,
    nev_count_problems,
    session_gaps,
    unity_logs,
)
from hippoflow.plan.resources import mem_for, runtime_for
from hippoflow.plan.stale import changed_other, changed_raw, gone_sessions
from hippoflow.plan.targets import WAVEFORM_TEMPLATES, DayKey, Plan, SessionKey

__all__ = [
    "PROBLEM_PREFIX",
    "WAVEFORM_TEMPLATES",
    "DayKey",
    "Plan",
    "Session",
    "SessionKey",
    "discover",
    "eyelink_files",
    "file_problem",
    "header_channels",
    "make_plan",
    "mem_for",
    "nev_version",
    "runtime_for",
    "selection",
]


def selection(config: Mapping, key: str):
    """A config selection (``subjects``, ``days``, ``channels``): "all" or a list of names
    (channel numbers as ints)."""
    value = config.get(key, "all")
    if value == "all":
        return value
    return [int(v) if key == "channels" else str(v) for v in value]


def make_plan(config: Mapping, check_outputs: bool = True) -> Plan:
    """The plan for a validated config (``data_root``, selections, ``behaviour.eyelink``).

    ``check_outputs``: compare the split's digest records in the output tree with the raw
    files (:mod:`hippoflow.plan.stale`; the main process does, a cluster job need not)."""
    data_root = str(config["data_root"])
    warnings: list[str] = []
    subjects, days = selection(config, "subjects"), selection(config, "days")
    sessions = discover(data_root, subjects, days, selection(config, "channels"), warnings)
    eyelink = bool((config.get("behaviour") or {}).get("eyelink", True))
    problems = {(s.key, k): msg for s in sessions for k, msg in s.problems.items()}
    problems.update(missing_selections(data_root, sessions, subjects, days))
    problems.update(nev_count_problems(sessions))
    logs = unity_logs(sessions, eyelink, problems, warnings)
    for s in sessions:
        warnings += session_gaps(s)
    eyes = eye_files(sessions, problems, warnings)
    if check_outputs:
        changed_raw(sessions, output_root(config), problems, warnings)
        changed_other(sessions, logs, eyes, output_root(config), problems, warnings)
        gone_sessions(sessions, data_root, output_root(config), problems, warnings)
    nwb = bool((config.get("nwb") or {}).get("enabled", True))
    return Plan(sessions, logs, eyes, problems, eyelink=eyelink, nwb=nwb, warnings=warnings)
