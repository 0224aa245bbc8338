"""The prediction: per day and in total, from the plan, the inputs and the rates."""

from __future__ import annotations

import math
from collections import defaultdict

from hippoflow.estimate.compute import group_wall, job_start, rule_seconds
from hippoflow.estimate.dag import LOCAL, day_counts, submissions
from hippoflow.estimate.inputs import (
    CLUSTER_FILE,
    PRICES,
    PROFILE,
    RATES,
    load_cluster,
    load_prices,
    load_profile,
    load_rates,
    profile_cores,
    profile_queues,
    workflow_config,
)
from hippoflow.estimate.queues import Queues
from hippoflow.estimate.storage import day_bytes, shared_throughput, storage_usd_per_hour
from hippoflow.estimate.tree import session_lengths
from hippoflow.plan import make_plan

MODES = ("default", "nodelocal")
DAY_SUMS = ("jobs", "core_s", "shared_bytes", "raw_bytes", "storage_bytes")


def estimate(
    data_root,
    profile=PROFILE,
    mode: str = "default",
    cluster_file=None,
    prices=PRICES,
    rates=RATES,
    assume_seconds: float | None = None,
    config: dict | None = None,
) -> dict:
    """The plan's prediction: per day and in total (see :mod:`hippoflow.estimate`).

    ``mode``: ``default`` (everything on the shared volume) or ``nodelocal`` (a day's split
    and high-pass files on the node).  ``assume_seconds``: a recording length per session to
    use instead of the headers' (planning on header-only trees).  Returns a dict with
    ``days`` (per day) and ``total``; ``total["wall_s"]`` is the predicted wall time."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    groups, ncomp = load_profile(profile)
    cfg = workflow_config(config or {}, data_root, groups)
    plan = make_plan(cfg)
    cluster_file = cluster_file or CLUSTER_FILE
    cluster = load_cluster(cluster_file)
    px = load_prices(prices)
    rt = load_rates(rates)
    lengths = session_lengths(plan, assume_seconds)
    jobs, comps, run_level = day_counts(cfg, groups)
    byte_args = dict(
        split_ratio=float(
            rt.get("split_size_ratio", {}).get(cfg.get("split_compression", "none"), 1.0)
        ),
        nwb_ratio=float(rt.get("nwb_size_ratio", 1.0)) if cfg["nwb"]["enabled"] else None,
        digests=bool(cfg["report"]["input_digests"]),
        lfp_rate=float(cfg["lfp"]["ResampleRate"]),
    )
    queues = Queues(cluster, *profile_queues(profile), float(rt["slurm_overhead_s"]))
    cores = profile_cores(profile)
    days_out = {}
    tot: dict[str, float] = defaultdict(float)
    all_jobs: dict[str, int] = defaultdict(int)
    all_comps: dict[str, int] = defaultdict(int)
    for day in sorted(jobs):
        j, c = jobs[day], comps.get(day, {})
        for r, v in j.items():
            all_jobs[r] += v
        for g, v in c.items():
            all_comps[g] += v
        per_rule = rule_seconds(plan, lengths, day, j, rt)
        _queue_day(queues, j, c, per_rule, groups, ncomp, cores)
        b = day_bytes(lengths, plan, day, mode, **byte_args)
        row = {
            "jobs": sum(v for r, v in j.items() if r not in LOCAL),
            "submissions": submissions(j, c, groups, ncomp),
            "core_s": sum(per_rule.values()),
            "shared_bytes": b["moved"],
            "raw_bytes": b["raw"],
            "storage_bytes": b["kept"] + b["raw"],
        }
        days_out["/".join(day)] = row
        for k in DAY_SUMS:
            tot[k] += row[k]
    for rule, n in run_level.items():  # jobs of the whole run (the provenance page)
        all_jobs[rule] += n
        tot["jobs"] += n
        extra = n * (job_start(rt, rule) + float(rt["default_job_s"]))
        tot["core_s"] += extra
        q = queues.of(rule)
        queues.core_s[q] += extra + n * queues.overhead
        queues.subs[q] += n
    total = dict(tot)
    total["submissions"] = submissions(all_jobs, all_comps, groups, ncomp)
    total.update(_cluster_time(queues, px, cluster, total))
    return {
        "mode": mode,
        "cluster_file": str(cluster_file),
        "profile": str(profile),
        "prices_date": str(px["date"]),
        "rates": str(rates),
        "days": days_out,
        "total": total,
        # what the workflow says when planning (its dry run prints the same)
        "problems": list(plan.problem_messages().values()),
        "warnings": list(plan.warnings),
    }


def _queue_day(queues: Queues, j, c, per_rule, groups, ncomp, cores: int = 1) -> None:
    """One day's work and Slurm jobs onto their queues: an ungrouped job is one Slurm job; a
    group's connected components make ceil(components / group-components) Slurm jobs, each
    running its members on ``cores`` CPUs (:func:`group_wall`; 1: one after the other)."""
    for r, sec in per_rule.items():
        queues.work(r, sec)
    for r, v in j.items():
        if r not in groups and r not in LOCAL:
            queues.submit(queues.of(r), v, per_rule.get(r, 0.0) / max(1, v))
    for g, n in c.items():
        members = [r for r, gg in groups.items() if gg == g]
        n_sub = math.ceil(n / int(ncomp.get(g, 1)))
        q = queues.of(members[0]) if members else queues.default
        group_s = sum(per_rule.get(r, 0.0) for r in members)
        if n_sub == 1:
            wall, cpus = group_wall(per_rule, j, members, cores)
            queues.submit(q, 1, wall, cpus, group_s)
        else:  # several Slurm jobs of this group a day: its work spread over them, 1 core
            queues.submit(q, n_sub, group_s / n_sub)


def _cluster_time(queues: Queues, px: dict, cluster: dict, total: dict) -> dict:
    """Wall time (the longest of CPU, shared storage and the longest Slurm job per queue),
    node-hours and dollars (nodes, head node and shared storage for the wall time)."""
    bw, bw_how = shared_throughput(cluster, px)
    core_s = total.get("core_s", 0.0) + total["submissions"] * queues.overhead
    io_wall = total.get("shared_bytes", 0.0) / bw
    per_q = queues.busy(px, io_wall)
    longest = max(queues.longest.values(), default=0.0)
    cpu_wall = max((v["cpu_s"] for v in per_q.values()), default=0.0)
    wall = max([v["busy_s"] for v in per_q.values()] + [io_wall])
    node_usd = sum(v["nodes"] * v["busy_s"] * v["usd_h"] for v in per_q.values()) / 3600
    head_usd = px["instances"][cluster["head"]]["usd_per_hour"] * wall / 3600
    storage_usd = storage_usd_per_hour(cluster, px) * wall / 3600
    return dict(
        wall_s=wall,
        cpu_wall_s=cpu_wall,
        io_wall_s=io_wall,
        longest_submission_s=longest,
        bound=max(
            (("storage", io_wall), ("cpu", cpu_wall), ("longest job", longest)),
            key=lambda kv: kv[1],
        )[0],
        core_hours=core_s / 3600,
        node_hours=sum(v["nodes"] * v["busy_s"] for v in per_q.values()) / 3600,
        usd_nodes=node_usd,
        usd_head=head_usd,
        usd_storage=storage_usd,
        usd_on_demand=node_usd + head_usd + storage_usd,
        usd_spot=node_usd * float(px["spot_fraction"]) + head_usd + storage_usd,
        shared_throughput_bps=bw,
        shared_storage=bw_how,
        compute_cores=queues.compute_cores(px, per_q),
        queues={q: {"nodes": v["nodes"], "busy_h": v["busy_s"] / 3600} for q, v in per_q.items()},
    )
