"""Jobs per rule and Slurm submissions of a run, from Snakemake's own DAG of it.

Inputs: the workflow's config (``data_root`` and every key the rules read) and the profile's
``groups`` / ``group-components``. ``snakemake --dag`` is run on the repository's Snakefile
with that config and an empty output root, so its jobs are every job of a first run: the
workflow's own planning decides them, and a new rule or a changed job count needs no change
here. Outputs: per (subject, day), jobs per rule (``rplsplit_2`` counted as ``rplsplit``:
one rule per channel set) and connected components of each group (jobs linked by a
dependency between two members of the same group, as Snakemake forms group jobs).
"""

from __future__ import annotations

import functools
import math
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import yaml

from hippoflow.estimate.inputs import REPO

LOCAL = ("all", "input_problem")  # rules run on the submitting host, not as Slurm jobs
NODE_RE = re.compile(r'^\s*(\d+)\[label = "([^"]*)"', re.MULTILINE)
EDGE_RE = re.compile(r"^\s*(\d+) -> (\d+)", re.MULTILINE)
CHANNEL_SET_RULE = re.compile(r"_(\d+)$")


class DagError(RuntimeError):
    """``snakemake --dag`` failed for the tree (its message in the exception)."""


def base_rule(name: str) -> str:
    """``rplsplit_2`` -> ``rplsplit`` (one split and LFP rule per channel set of a day)."""
    return CHANNEL_SET_RULE.sub("", name) if name.startswith(("rplsplit", "rpllfp")) else name


@functools.cache
def _dot(config_yaml: str) -> str:
    with tempfile.TemporaryDirectory(prefix="hippoflow-estimate-") as tmp:
        cfg = yaml.safe_load(config_yaml)
        cfg["output_root"] = str(Path(tmp) / "out")
        cfg["data_root"] = str(Path(cfg["data_root"]).resolve())  # snakemake runs in tmp
        (Path(tmp) / "config.yaml").write_text(yaml.safe_dump(cfg))
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "snakemake",
                "--dag",
                "--snakefile",
                str(REPO / "Snakefile"),
                "--configfile",
                str(Path(tmp) / "config.yaml"),
                "--cores",
                "1",
            ],
            cwd=tmp,
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        raise DagError(f"snakemake --dag failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def snakemake_jobs(config: dict) -> tuple[dict[str, tuple[str, dict]], list[tuple[str, str]]]:
    """(job id -> (rule, wildcards), dependency edges (from, to)) of ``snakemake --dag``."""
    text = _dot(yaml.safe_dump(config, sort_keys=True))
    jobs = {}
    for m in NODE_RE.finditer(text):
        rule, *fields = m.group(2).split("\\n")
        jobs[m.group(1)] = (rule, dict(f.split(": ", 1) for f in fields if ": " in f))
    return jobs, EDGE_RE.findall(text)


def _job_days(jobs, edges) -> dict[str, tuple[str, str]]:
    """(subject, day) of each job: from its wildcards (``subject``/``day`` or ``sp``), else
    the one day of the jobs it depends on (Snakemake's DOT labels leave some wildcards out);
    a job of several days (the provenance page, ``all``) has none."""
    days = {}
    for jid, (_, wc) in jobs.items():
        if "subject" in wc and "day" in wc:
            days[jid] = (wc["subject"], wc["day"])
        elif "sp" in wc:
            days[jid] = tuple(wc["sp"].split("/")[:2])
    parents = defaultdict(set)
    for a, b in edges:
        parents[b].add(a)
    changed = True
    while changed:
        changed = False
        for jid in jobs:
            if jid in days:
                continue
            found = {days[p] for p in parents[jid] if p in days}
            if len(found) == 1:
                days[jid] = found.pop()
                changed = True
    return days


def day_counts(config: dict, groups: dict[str, str]) -> tuple[dict, dict, dict[str, int]]:
    """Per (subject, day): jobs per rule, and connected components per group; and the jobs
    of no single day, per rule (the provenance page)."""
    jobs, edges = snakemake_jobs(config)
    days = _job_days(jobs, edges)
    per_day: dict = defaultdict(lambda: defaultdict(int))
    run_level: dict[str, int] = defaultdict(int)
    for jid, (rule, _) in jobs.items():
        rule = base_rule(rule)
        if jid in days:
            per_day[days[jid]][rule] += 1
        elif rule not in LOCAL:
            run_level[rule] += 1
    parent = {jid: jid for jid in jobs}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def group(jid):
        return groups.get(base_rule(jobs[jid][0]))

    for a, b in edges:
        if group(a) is not None and group(a) == group(b):
            parent[find(a)] = find(b)
    comps: dict = defaultdict(lambda: defaultdict(set))
    for jid in jobs:
        if group(jid) is not None and jid in days:
            comps[days[jid]][group(jid)].add(find(jid))
    return (
        {d: dict(r) for d, r in per_day.items()},
        {d: {g: len(c) for g, c in gs.items()} for d, gs in comps.items()},
        dict(run_level),
    )


def submissions(jobs: dict[str, int], comps: dict[str, int], groups, ncomp) -> int:
    """Slurm jobs: ungrouped jobs + ceil(components of each group / its group-components)."""
    ungrouped = sum(v for r, v in jobs.items() if r not in groups and r not in LOCAL)
    return ungrouped + sum(math.ceil(c / int(ncomp.get(g, 1))) for g, c in comps.items())
