"""Problems and warnings of the discovered sessions beyond their own files: a session's
Unity logs and .nev count, a day's EyeLink files, gaps that may be deliberate, and selected
subjects or days that do not exist.

Inputs: :class:`~hippoflow.plan.discovery.Session` records (directory listings only).
Outputs: problems keyed by ``(where, name)`` (each becomes a failing job of its own,
``rules/problems.smk``) and warning lines (shown when planning and in the run summary).
"""

from __future__ import annotations

from pathlib import Path

from hippoflow.behaviour.unity import find_logs
from hippoflow.naming import DAY_RE, SUBJECT_RE, UNITY_ARGS, is_fixation
from hippoflow.plan.discovery import Session
from hippoflow.plan.files import (
    eye_entries,
    eyelink_files,
    file_key,
    file_problem,
    ignored_warnings,
    not_recordings,
    readable,
)

PROBLEM_PREFIX = ".hippoflow-problem-"
UNITY_GLOB = f"{UNITY_ARGS['DirName']}/{UNITY_ARGS['FileName']}.txt"  # RawData*/session*.txt


def nev_count_problems(sessions: list[Session]) -> dict:
    """A session with more than one .nev."""
    return {
        (s.key, "nev_count"): f"{s.path}: expected one .nev per session, found {len(s.nev)}: "
        + ", ".join(p.name for p in s.nev)
        for s in sessions
        if len(s.nev) > 1
    }


def unity_logs(sessions: list[Session], eyelink: bool, problems: dict, warnings: list) -> dict:
    """Each session's readable Unity logs; unreadable, extra or missing logs go to
    ``problems``, files that are not logs (hidden files, duplicates) to ``warnings``."""
    logs_of = {}
    for s in sessions:
        ignored: dict[Path, str] = {}
        found = not_recordings(sorted(s.path.glob(UNITY_GLOB)), ignored)
        warnings += ignored_warnings(ignored)
        bad: dict[str, str] = {}
        readable(found, "unity_log", bad)
        problems.update(((s.key, k), m) for k, m in bad.items())
        logs_of[s.key] = logs = [
            p for p in not_recordings(find_logs(s.path)) if file_problem(p) is None
        ]
        if len(logs) > 1:
            problems[(s.key, "unity_logs")] = (
                f"{s.path}: expected one Unity log ({UNITY_GLOB}), found "
                f"{len(logs)}: " + ", ".join(str(p.relative_to(s.path)) for p in logs)
            )
        elif not logs and not bad and len(s.nev) == 1 and not is_fixation(s.name):
            made = "unity, eyelink and raycast outputs" if eyelink else "unity object"
            problems[(s.key, "unity_log_missing")] = (
                f"{s.path}: no Unity log ({UNITY_GLOB}): the session's {made} are not made"
            )
    return logs_of


def eye_files(sessions: list[Session], problems: dict, warnings: list) -> dict:
    """Each day's (navigation, fixation) EyeLink files; unreadable ones, and more than one
    file for a role, go to ``problems``; files that are not recordings to ``warnings``."""
    files = {}
    for s in sessions:
        day = (s.subject, s.day)
        if day in files:
            continue
        day_dir = s.path.parent
        ignored: dict[Path, str] = {}
        files[day] = eyelink_files(day_dir, ignored)
        warnings += ignored_warnings(ignored)
        bad: dict[str, str] = {}
        readable(eye_entries(day_dir), "eye_file", bad)
        problems.update(((day, k), m) for k, m in bad.items())
        for role, found, made in zip(
            ("navigation", "fixation"),
            files[day],
            (
                "the navigation sessions' EyeLink objects, raycast and gaze tables are not "
                "made (their NWB files have no eye data)",
                "the sessioneye EyeLink object is not made",
            ),
            strict=True,
        ):
            if len(found) > 1:
                problems[(day, f"eye_{role}_count")] = (
                    f"{day_dir}: {len(found)} {role} EyeLink files, expected one: "
                    + ", ".join(p.name for p in found)
                    + f"; {made} (keep the day's one {role} file in the folder and move the "
                    "other(s) out)"
                )
    return files


def session_gaps(s: Session) -> list[str]:
    """Warnings for a session folder without a .nev or .ns5 (nothing broken: maybe meant)."""
    bad = {k for k in s.problems if k.startswith(("nev_file", "ns5_file"))}
    if s.nev or s.ns5 or bad:
        out = []
        if not s.nev and not any(k.startswith("nev_file") for k in bad):
            out.append(
                f"{s.path}: no .nev file: the session's markers (rplparallel), trial QC and "
                "behaviour outputs are not made"
            )
        if not s.ns5 and not any(k.startswith("ns5_file") for k in bad):
            out.append(f"{s.path}: no .ns5 file: no channel of the session is split or sorted")
        return out
    return [f"{s.path}: session folder without .nev or .ns5 file: skipped"]


def missing_selections(data_root, sessions, subjects, days) -> dict:
    """A subject or day named in the config's selection that no session has: a problem of
    the run (it would otherwise be skipped without a word)."""
    problems = {}
    for key, wanted, have in (
        ("subjects", subjects, {s.subject for s in sessions}),
        ("days", days, {s.day for s in sessions}),
    ):
        if wanted in (None, "all"):
            continue
        for name in wanted:
            if name not in have:
                problems[((), f"{key}_{file_key('', Path(name))[1:]}")] = (
                    f"{data_root}: {key} selection names {name!r}, but no "
                    f"{key[:-1]} folder of that name with session folders was found "
                    f"(pattern {SUBJECT_RE if key == 'subjects' else DAY_RE})"
                )
    return problems
