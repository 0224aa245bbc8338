"""Planning cost: dry-run of a picasso-scale tree, and one channel's target."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from benchmarks._measure import REPO, WORK, measure, row
from hippoflow.synth.day import electrode_ids

DAYS, CHANNELS = 46, 124
RIPPLE_RULES = ("rplparallel", "rplsplit", "rpllfp", "rplhighpass")


def snakemake(work: Path, root: Path, *args) -> list[str]:
    return [
        str(Path(sys.executable).parent / "snakemake"),
        *args,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(work),
        "--configfile",
        str(REPO / "config" / "config.yaml"),
        "--config",
        f"data_root={root}",
        f"output_root={work / 'out'}",
    ]


def run(days: int = DAYS, channels: int = CHANNELS) -> list[dict]:
    work = WORK / "planning"
    shutil.rmtree(work, ignore_errors=True)
    root = work / "data"
    measure(
        [
            sys.executable,
            "-m",
            "hippoflow.synth",
            "--out",
            str(root),
            "--n-days",
            str(days),
            "--days",
            "20181101",
            "--channels",
            str(channels),
            "--header-only",
        ]
    )
    try:
        # the target goes before a bare --quiet: in "--quiet all", "all" is a quietness value,
        # and Snakemake 9.27.1 then still lists every job of a dry run (26 MB for 40 k jobs)
        full_s, full_mb = measure(snakemake(work, root, "all", "-n", "--quiet"))
        # the same dry run with Snakemake's own per-job script check and output index
        # (hippoflow/dagspeed.py off): the baseline, measured in the same run
        own = dict(os.environ, HIPPOFLOW_DAGSPEED="0")
        own_s, _ = measure(snakemake(work, root, "all", "-n", "--quiet"), env=own)
        # issue 3's own steps (parallel port, split, LFP, high-pass), as before sorting/behaviour
        ripple_s, _ = measure(
            snakemake(work, root, "all", "-n", "--quiet", "--until", *RIPPLE_RULES)
        )
        day = sorted(p.name for p in (root / "picasso").iterdir())[days // 2]
        e = electrode_ids(channels)[channels // 3]
        target = (
            work
            / f"out/picasso/{day}/session01/array{(e - 1) // 32 + 1:02d}/channel{e:03d}"
            / "rplhighpass_b59f.hkl"
        )
        one_s, one_mb = measure(snakemake(work, root, str(target), "-n", "--quiet"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    scale = f"{days} days x 2 sessions x {channels} ch"
    return [
        row(
            "planning: dry-run, picasso scale",
            full_s,
            "s",
            baseline=round(own_s, 3),
            ratio=full_s / own_s,
            target="<= 30 s",
            ok=full_s <= 30,
            scale=scale,
        ),
        row(
            "planning: dry-run, Ripple steps only (--until)",
            ripple_s,
            "s",
            target="<= 30 s",
            ok=ripple_s <= 30,
        ),
        row("planning: dry-run peak RSS", full_mb, "MB", target="<= 2048 MB", ok=full_mb <= 2048),
        row(
            "planning: parse + plan one channel target", one_s, "s", target="<= 3 s", ok=one_s <= 3
        ),
    ]
