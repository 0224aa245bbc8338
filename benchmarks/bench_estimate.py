"""Per-job rates for python -m hippoflow.estimate, measured on one core; writes
benchmarks/work/rates.json (keeps its split_size_ratio, from bench_bytes.py, and nwb_size_ratio, from
bench_nwb.py).

* job_start_s: a job's Python start-up with the workflow's imports (snakemake, hippoflow's
  ripple and sorting steps); job_start_s_per_rule: the same with each rule's script's own
  top-level imports (what that rule's jobs pay);
* seconds_per_channel_hour: rplsplit (a generated 32-channel session, per channel-hour of the
  file), rpllfp and rplhighpass (one 10-minute channel), sort (sort + curate of one
  day-channel with 4 units at 2 x 2.5 and 2 x 10 minutes: the slope, and the fixed cost per
  day-channel as seconds_per_job.sort), each child's wall time minus job_start_s, divided by
  the channel-hours it processed;
* slurm_overhead_s is not measured here (it needs the Slurm test cluster): 12.5 s, the
  "Slurm run minus local run of the same job" of benchmarks/bench_slurm.py (docs/design/job-groups.md);
  default_job_s (behaviour, QC and export jobs, which have no per-channel-hour rate) is kept.
"""

from __future__ import annotations

import shutil
import sys

from benchmarks._measure import REPO, WORK, load_rates, measure, merge_rates, row
from benchmarks.bench_bytes import SPLIT
from benchmarks.bench_filters import OURS as FILTER
from benchmarks.bench_filters import make_channel
from benchmarks.bench_sorting import make_day, sort_in_child
from hippoflow.estimate.inputs import load_rates as load_config_rates

CHANNEL_MINUTES = 10.0
SPLIT_CHANNELS, SPLIT_SECONDS = 32, 60.0
SORT_SECONDS = ((150.0, 150.0), (600.0, 600.0))  # two lengths: fixed cost + rate
START = "import snakemake.script, hippoflow.ripple.steps, hippoflow.sorting.steps"
SCRIPTS = REPO / "scripts"
#: what a rule's step imports when it runs (imported there, not by its script, so that the
#: other rules' jobs do not pay for it): part of each of its jobs' start-up all the same
STEP_IMPORTS = {
    "rpllfp": "import hippoflow.ripple.filters",
    "rplhighpass": "import hippoflow.ripple.filters",
    "qc_lfp": "import scipy.signal",
}


def script_imports(rule: str) -> str:
    """What a rule's job imports before its work: Snakemake's script preamble
    (snakemake.script), its script's top-level import lines, its step's (STEP_IMPORTS)."""
    lines = (SCRIPTS / f"{rule}.py").read_text().splitlines()
    heads = [x for x in lines if x.startswith(("import ", "from ")) and "__future__" not in x]
    return "\n".join(["import snakemake.script", *heads, STEP_IMPORTS.get(rule, "")])


def start_per_rule(repeat: int = 3) -> dict[str, float]:
    """rule -> the best of ``repeat`` Python starts with its script's imports, seconds."""
    return {
        p.stem: min(
            measure([sys.executable, "-c", script_imports(p.stem)])[0] for _ in range(repeat)
        )
        for p in sorted(SCRIPTS.glob("*.py"))
    }


def run() -> list[dict]:
    from hippoflow.synth import day as gen

    work = WORK / "rates"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rates = {**load_config_rates(), **load_rates()}
    rates.pop("measured", None)
    per = {}
    try:
        start = min(measure([sys.executable, "-c", START])[0] for _ in range(3))
        per_rule_start = start_per_rule()
        opts = gen.Options(
            out=work / "data",
            channels=SPLIT_CHANNELS,
            seconds=SPLIT_SECONDS,
            sessions=1,
            eye=False,
            seed=4,
        )
        (day,) = gen.generate(opts, log=lambda *_: None)
        wall, _ = measure(
            [
                sys.executable,
                "-c",
                SPLIT,
                str(day / "session01"),
                str(work / "split"),
                "none",
                str(SPLIT_CHANNELS),
            ]
        )
        per["rplsplit"] = max(0.0, wall - start) / (SPLIT_CHANNELS * SPLIT_SECONDS / 3600)
        raw = work / "rplraw_d41d.hkl"
        make_channel(raw, CHANNEL_MINUTES / 60)
        for kind, rule in (("hp", "rplhighpass"), ("lfp", "rpllfp")):
            wall, _ = measure(
                [sys.executable, "-c", FILTER, kind, str(raw), str(work / f"{kind}.hkl")]
            )
            per[rule] = max(0.0, wall - start) / (CHANNEL_MINUTES / 60)
        pts = []
        for k, lengths in enumerate(SORT_SECONDS):
            sources, *_ = make_day(work / f"sort{k}", list(lengths))
            wall, _, _ = sort_in_child(sources, {}, work / f"sort{k}")
            pts.append((sum(lengths) / 3600, max(0.0, wall - start)))
        (h0, s0), (h1, s1) = pts
        per["sort"] = max(0.0, (s1 - s0) / (h1 - h0))  # MountainSort5 has a fixed cost too
        sort_fixed = max(0.0, s0 - per["sort"] * h0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rates.update(
        note="per-job rates for python -m hippoflow.estimate, written by `make bench` "
        "(benchmarks/bench_estimate.py: job_start_s and seconds_per_channel_hour measured on one "
        "core of the machine below; slurm_overhead_s from bench_slurm.py on the test cluster; "
        "split_size_ratio from bench_bytes.py; nwb_size_ratio from bench_nwb.py)",
        measured_on=__import__("platform").platform(),
        job_start_s=round(start, 2),
        job_start_s_per_rule={k: round(v, 2) for k, v in per_rule_start.items()},
        slurm_overhead_s=rates.get("slurm_overhead_s", 12.5),
        default_job_s=rates.get("default_job_s", 5.0),
        seconds_per_job={**rates.get("seconds_per_job", {}), "sort": round(sort_fixed, 2)},
        seconds_per_channel_hour={k: round(v, 2) for k, v in per.items()},
    )
    merge_rates(rates)
    rows = [row("job start-up (python + workflow imports)", start, "s")]
    rows += [
        row(f"{k}: job start-up (its script's imports)", v, "s") for k, v in per_rule_start.items()
    ]
    rows += [row(f"{k}: seconds per channel-hour (1 core)", v, "s") for k, v in per.items()]
    rows.append(row("sort: fixed seconds per day-channel (1 core)", sort_fixed, "s"))
    return rows
