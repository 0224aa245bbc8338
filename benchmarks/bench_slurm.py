"""Slurm: per-job overhead on the local test cluster; submissions and dry-run time with the
pcluster profile for one full day and for the picasso-scale tree.

Needs root on Debian for the Slurm part (tests/cluster/localslurm.py installs and starts a
one-node cluster, accounting off); without it those rows are reported as skipped.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import yaml

from benchmarks._measure import REPO, WORK, measure, row

sys.path.insert(0, str(REPO / "tests" / "cluster"))
import localslurm  # noqa: E402

SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
PROFILE = REPO / "profiles" / "pcluster"
DAYS, CHANNELS = 46, 124


def _cmd(profile: str, data: Path, out: Path, *args: str) -> list[str]:
    """snakemake with a profile (a name under profiles/ or a path); targets go in ``args``
    before any option that takes several values (``--quiet all`` would read 'all' as a value)."""
    return [
        SNAKEMAKE,
        *args,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--configfile",
        str(REPO / "config" / "config.yaml"),
        "--profile",
        str(REPO / "profiles" / profile),
        "--config",
        f"data_root={data}",
        f"output_root={out}",
    ]


def _generate(out: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "hippoflow.synth", "--out", str(out), *args],
        check=True,
        capture_output=True,
        cwd=REPO,
    )


# --- submissions --------------------------------------------------------------------------
def _group_settings() -> tuple[dict[str, str], dict[str, int]]:
    prof = yaml.safe_load(PROFILE.joinpath("config.yaml").read_text())
    return prof.get("groups", {}), prof.get("group-components", {})


def _job_stats(text: str) -> dict[str, int]:
    block = text[text.index("Job stats:") :]
    stats = {}
    for line in block.splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit() or parts[0] == "total":
            break
        stats[parts[0]] = int(parts[1])
    return stats


def _submissions_from_stats(stats: dict[str, int], local=("all", "input_problem")) -> int:
    """Slurm jobs for a DAG: ungrouped jobs + ceil(components / group-components) per group.

    Components: chanfilter jobs are each their own component; a sortchan component is one
    day-channel (its sort plus the jobs depending on it), counted by the `sort` jobs.
    """
    groups, ncomp = _group_settings()
    n = sum(v for k, v in stats.items() if k not in groups and k not in local)
    by_group: dict[str, int] = {}
    for rule, g in groups.items():
        if g == "sortchan":
            comps = stats.get("sort", 0) if rule == "sort" else 0
        else:
            comps = stats.get(rule, 0)
        by_group[g] = by_group.get(g, 0) + comps
    return n + sum(math.ceil(c / int(ncomp.get(g, 1))) for g, c in by_group.items())


def bench_day(work: Path) -> tuple[list[dict], dict[str, int]]:
    data = work / "day"
    _generate(data, "--channels", str(CHANNELS), "--sessions", "2", "--header-only")
    t0 = time.perf_counter()
    done = subprocess.run(
        _cmd("pcluster", data, work / "out", "-n"), cwd=work, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    assert done.returncode == 0, done.stderr[-2000:]
    text = done.stdout + done.stderr
    stats = _job_stats(text)
    jobs = sum(v for k, v in stats.items() if k not in ("all", "input_problem"))
    groups = len(re.findall(r"Group job (\w+)", text))
    grouped_rules = set(_group_settings()[0])
    ungrouped = sum(
        v for k, v in stats.items() if k not in grouped_rules | {"all", "input_problem"}
    )
    measured = groups + ungrouped
    formula = _submissions_from_stats(stats)
    return [
        row(
            "slurm: Snakemake jobs, one full day", jobs, "jobs", scale=f"3 sessions x {CHANNELS} ch"
        ),
        row(
            "slurm: submissions, one full day (groups)",
            measured,
            "sbatch",
            baseline=jobs,
            ratio=measured / jobs,
            target="<= 150",
            ok=measured <= 150 and measured == formula,
            dry_run_s=round(wall, 2),
        ),
    ], stats


def bench_picasso(work: Path, day_stats: dict[str, int]) -> list[dict]:
    data = work / "picasso"
    _generate(
        data,
        "--n-days",
        str(DAYS),
        "--days",
        "20181101",
        "--channels",
        str(CHANNELS),
        "--header-only",
    )
    wall, mb = measure(_cmd("pcluster", data, work / "out2", "all", "-n", "--quiet"), cwd=work)
    # job counts per rule (the quiet run prints none): the full day's counts x days (the
    # generator's days are alike); group components can merge across days, as computed here
    stats = {k: v * DAYS for k, v in day_stats.items()}
    jobs = sum(v for k, v in stats.items() if k not in ("all", "input_problem"))
    subs = _submissions_from_stats(stats)
    scale = f"{DAYS} days x 3 sessions x {CHANNELS} ch"
    return [
        row(
            "slurm: pcluster-profile dry-run, picasso scale",
            wall,
            "s",
            target="<= 90 s",  # plain dry run of the same tree: ~54 s here
            ok=wall <= 90,
            scale=scale,
            peak_rss_mb=round(mb),
        ),
        row(
            "slurm: submissions, picasso scale (groups)",
            subs,
            "sbatch",
            baseline=jobs,
            ratio=subs / jobs,
            scale=scale,
            note="computed from per-rule job counts and the profile's group-components",
        ),
    ]


# --- per-job overhead on the test cluster -------------------------------------------------
def _ts(s: str) -> float:
    return datetime.fromisoformat(s).timestamp()


def bench_overhead(work: Path) -> list[dict]:
    reason = localslurm.why_unavailable()
    if reason:
        return [row("slurm: per-job overhead", float("nan"), "s", ok=None, skipped=reason)]
    cluster = localslurm.start(work / "slurm", log=lambda m: None)
    try:
        # the scheduler alone: sbatch --wait of a no-op job
        t0 = time.perf_counter()
        cluster.run(
            "sbatch",
            "--wait",
            "-p",
            "light",
            "--mem=50",
            "-o",
            "/dev/null",
            "--wrap",
            "true",
            timeout=120,
        )
        bare = time.perf_counter() - t0

        data = work / "demo"
        _generate(data, "--channels", "2", "--seconds", "20")
        target = str(
            work / "o_slurm" / "picasso" / "20181105" / "session01" / "rplparallel_d41d.hkl"
        )
        cmd = _cmd(
            "pcluster",
            data,
            work / "o_slurm",
            target,
            "--slurm-init-seconds-before-status-checks",
            "1",
        )
        t0 = time.perf_counter()
        done = subprocess.run(
            cmd, cwd=work, env=cluster.env, capture_output=True, text=True, timeout=600
        )
        slurm_wall = time.perf_counter() - t0
        log = done.stdout + done.stderr
        assert done.returncode == 0, log[-3000:]
        jid = re.search(r"submitted with SLURM jobid (\d+)", log).group(1)
        submit, start, end = (
            cluster.run("squeue", "--states=all", "-h", "-j", jid, "-o", "%V|%S|%e")
            .strip()
            .split("|")
        )
        finished = re.findall(r"\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]\s*\nFinished jobid", log)
        recognised = datetime.strptime(finished[-1], "%a %b %d %H:%M:%S %Y").timestamp()

        local_target = target.replace("o_slurm", "o_local")
        t0 = time.perf_counter()
        loc = subprocess.run(
            _cmd("local", data, work / "o_local", local_target, "--cores", "1"),
            cwd=work,
            env=cluster.env,
            capture_output=True,
            text=True,
        )
        local_wall = time.perf_counter() - t0
        assert loc.returncode == 0, loc.stderr[-2000:]
    finally:
        cluster.stop()
    queued = _ts(start) - _ts(submit)
    on_node = _ts(end) - _ts(start)
    lag = recognised - _ts(end)
    overhead = slurm_wall - local_wall
    return [
        row("slurm: bare sbatch --wait round trip", bare, "s"),
        row("slurm: submit -> running (one job)", queued, "s", note="squeue times, 1 s resolution"),
        row("slurm: running -> done on node (job incl. Snakemake start)", on_node, "s"),
        row(
            "slurm: done -> recognised by Snakemake (squeue)",
            lag,
            "s",
            note="status delay 1 s, +10 s per idle round",
        ),
        row(
            "slurm: per-job overhead (Slurm run - local run, one job)",
            overhead,
            "s",
            baseline=round(local_wall, 2),
            ratio=slurm_wall / local_wall,
            target="<= 30 s",
            ok=overhead <= 30,
        ),
    ]


def run() -> list[dict]:
    work = WORK / "slurm"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        day_rows, day_stats = bench_day(work)
        return bench_overhead(work) + day_rows + bench_picasso(work, day_stats)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__" and "--compare" not in sys.argv:
    import json

    print(json.dumps(run(), indent=1))


# --- groups versus the plugin's array jobs (not part of `make bench`: ~5 min) -------------
def compare_groups_arrays(work: Path, channels: int = 4) -> list[dict]:
    """Run the ripple steps of a small demo on the test cluster twice: with the profile's job
    groups, and with a copy of the profile using array jobs for the filters instead."""
    reason = localslurm.why_unavailable()
    if reason:
        return [row("slurm: groups vs arrays", float("nan"), "s", skipped=reason)]
    prof = yaml.safe_load(PROFILE.joinpath("config.yaml").read_text())
    arrays = {k: v for k, v in prof.items() if k not in ("groups", "group-components")}
    arrays["slurm-array-jobs"] = "rpllfp,rplhighpass"
    adir = work / "profile_arrays"
    adir.mkdir(parents=True)
    adir.joinpath("config.yaml").write_text(yaml.safe_dump(arrays))
    data = work / "demo"
    _generate(data, "--channels", str(channels), "--seconds", "20")
    from hippoflow import plan as discover

    cluster = localslurm.start(work / "slurm", log=lambda m: None)
    rows = []
    try:
        for label, profile in (("groups", str(PROFILE)), ("arrays", str(adir))):
            out = work / f"out_{label}"
            targets = []
            for s in discover.discover(str(data), "all", "all", "all"):
                for a, c in s.channels:
                    base = out / s.rel / f"array{a}" / f"channel{c}"
                    targets += [str(base / "rpllfp_6eca.hkl"), str(base / "rplhighpass_b59f.hkl")]
            before = set(cluster.run("squeue", "--states=all", "-h", "-o", "%i").split())
            cmd = _cmd(
                profile, data, out, *targets, "--slurm-init-seconds-before-status-checks", "1"
            )
            wd = work / f"wd_{label}"
            wd.mkdir()
            t0 = time.perf_counter()
            done = subprocess.run(cmd, cwd=wd, env=cluster.env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            log = done.stdout + done.stderr
            assert done.returncode == 0, log[-3000:]
            after = set(cluster.run("squeue", "--states=all", "-h", "-o", "%i").split())
            sbatch = len(re.findall(r"SLURM jobid \d+|SLURM job ID \d+", log))
            slurm_jobs = len(after - before)
            rows += [
                row(f"slurm: {label}: sbatch calls, {len(targets)} filter jobs", sbatch, "sbatch"),
                row(f"slurm: {label}: Slurm jobs incl. array tasks", slurm_jobs, "jobs"),
                row(f"slurm: {label}: wall time of the run", wall, "s"),
            ]
    finally:
        cluster.stop()
    return rows


if __name__ == "__main__" and "--compare" in sys.argv:
    import json

    w = WORK / "slurm_compare"
    shutil.rmtree(w, ignore_errors=True)
    w.mkdir(parents=True)
    try:
        print(json.dumps(compare_groups_arrays(w), indent=1))
    finally:
        shutil.rmtree(w, ignore_errors=True)
