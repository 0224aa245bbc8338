"""Planning cost: dry-run of a picasso-scale tree, and one channel's target.

The baseline is the one issue 13 names: the workflow as it was when the issue was filed
(commit b458caf), where this benchmark measured the 46-day dry run at 43.6 s and one channel's
target at 2.6 s, with the targets 30 s and 3 s "on the same machine, in the same run as the
baseline". That commit's workflow is taken from this clone's git history and planned here, in
this run, on a tree its own generator writes (its header reader predates the current
generator's headers); the targets are the issue's ratios, 30 / 43.6 and 3 / 2.6. The same dry
run with Snakemake's own planning (hippoflow/dagspeed.py off) is measured too, to show what the
patches give on today's workflow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks._measure import REPO, WORK, measure, row
from hippoflow.summary import parse_snakemake_log
from hippoflow.synth.day import electrode_ids

DAYS, CHANNELS = 46, 124
RIPPLE_RULES = ("rplparallel", "rplsplit", "rpllfp", "rplhighpass")

#: issue 13's baseline: the commit it was filed at, and what it measured there
BASELINE = "b458caff1453d8831980897d3f8ca6fc9e4db59d"
ISSUE_FULL_S, ISSUE_FULL_TARGET_S = 43.6, 30.0
ISSUE_ONE_S, ISSUE_ONE_TARGET_S = 2.6, 3.0


def baseline_tree(into: Path) -> Path:
    """The baseline commit's workflow files, extracted from git history into ``into``."""
    into.mkdir(parents=True)
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", BASELINE],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError(
            f"issue 13's baseline commit {BASELINE[:7]} is not in this clone's history "
            f"({exc}): planning's ratios need it (git fetch --unshallow, or a full clone)"
        ) from None
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def snakemake(code: Path, work: Path, root: Path, *args) -> list[str]:
    return [
        str(Path(sys.executable).parent / "snakemake"),
        *args,
        "--snakefile",
        str(code / "Snakefile"),
        "--directory",
        str(work),
        "--configfile",
        str(code / "config" / "config.yaml"),
        "--config",
        f"data_root={root}",
        f"output_root={work / 'out'}",
    ]


def tree(code: Path, generator: str, root: Path, days: int, channels: int, env) -> None:
    measure(
        [
            sys.executable,
            "-m",
            generator,
            "--out",
            str(root),
            "--n-days",
            str(days),
            "--days",
            "20181101",
            "--channels",
            str(channels),
            "--header-only",
        ],
        env=env,
        cwd=code,  # "python -m" looks in the working directory first
    )


def plan(code: Path, work: Path, root: Path, days: int, channels: int, env) -> dict:
    """Time one workflow's planning: the whole tree, --until the Ripple steps, one channel."""
    out: dict = {}
    # the target goes before a bare --quiet: in "--quiet all", "all" is a quietness value,
    # and Snakemake 9.27.1 then still lists every job of a dry run (26 MB for 40 k jobs)
    out["full_s"], out["full_mb"] = measure(
        snakemake(code, work, root, "all", "-n", "--quiet"), env=env, cwd=code
    )
    out["ripple_s"], _ = measure(
        snakemake(code, work, root, "all", "-n", "--quiet", "--until", *RIPPLE_RULES),
        env=env,
        cwd=code,
    )
    day = sorted(p.name for p in (root / "picasso").iterdir())[days // 2]
    e = electrode_ids(channels)[channels // 3]
    target = (
        work
        / f"out/picasso/{day}/session01/array{(e - 1) // 32 + 1:02d}/channel{e:03d}"
        / "rplhighpass_b59f.hkl"
    )
    listing = work / "one.txt"
    # "--quiet rules" keeps the job table (a handful of jobs here): proof the header was read;
    # the best of three (a 3 s run varies by a tenth with the machine's load)
    out["one_s"] = min(
        measure(
            snakemake(code, work, root, str(target), "-n", "--quiet", "rules"),
            env=env,
            cwd=code,
            stdout=listing,
        )[0]
        for _ in range(3)
    )
    jobs = parse_snakemake_log(listing.read_text()).planned  # the job table, as {rule: n}
    if jobs.get("rplhighpass") != 1 or "input_problem" in jobs:
        raise RuntimeError(f"{code}: one channel's target planned as {jobs}, not a split")
    return out


def run(days: int = DAYS, channels: int = CHANNELS) -> list[dict]:
    work = WORK / "planning"
    shutil.rmtree(work, ignore_errors=True)
    old = baseline_tree(work / "baseline")
    old_env = dict(os.environ, PYTHONPATH=str(old))
    try:
        tree(REPO, "hippoflow.synth", work / "data", days, channels, None)
        tree(old, "hippoflow.generate", work / "data-baseline", days, channels, old_env)
        base = plan(old, work / "run-baseline", work / "data-baseline", days, channels, old_env)
        now = plan(REPO, work / "run", work / "data", days, channels, None)
        # today's workflow with Snakemake's own planning (hippoflow/dagspeed.py off)
        own = dict(os.environ, HIPPOFLOW_DAGSPEED="0")
        own_s, _ = measure(
            snakemake(REPO, work / "run", work / "data", "all", "-n", "--quiet"), env=own
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    scale = f"{days} days x 2 sessions x {channels} ch"
    full_limit = ISSUE_FULL_TARGET_S / ISSUE_FULL_S
    one_limit = ISSUE_ONE_TARGET_S / ISSUE_ONE_S
    note = f"baseline = commit {BASELINE[:7]} (issue 13), same run"

    def against(name, key, unit, limit, target, **extra):
        """A row of today's value, the baseline's in the same run and their ratio."""
        ratio = now[key] / base[key]
        ok = ratio <= limit if limit is not None else extra.pop("ok")
        return row(name, now[key], unit, round(base[key], 3), ratio, target, ok, **extra)

    return [
        against(
            "planning: dry-run, picasso scale",
            "full_s",
            "s",
            full_limit,
            f"ratio <= {full_limit:.3f} ({ISSUE_FULL_TARGET_S:g} s / {ISSUE_FULL_S} s)",
            scale=scale,
            note=note,
        ),
        row(
            "planning: same, Snakemake's own planning (dagspeed off)",
            own_s,
            "s",
            note="today's workflow without hippoflow/dagspeed.py: what the patches give",
        ),
        against(
            "planning: dry-run, Ripple steps only (--until)",
            "ripple_s",
            "s",
            full_limit,
            f"ratio <= {full_limit:.3f}",
            note=note,
        ),
        against(
            "planning: dry-run peak RSS",
            "full_mb",
            "MB",
            None,
            "<= 2048 MB",
            ok=now["full_mb"] <= 2048,
        ),
        against(
            "planning: parse + plan one channel target",
            "one_s",
            "s",
            one_limit,
            f"ratio <= {one_limit:.3f} ({ISSUE_ONE_TARGET_S:g} s / {ISSUE_ONE_S} s)",
            note=note,
        ),
    ]
