"""A plan before the run: jobs, Slurm submissions, core-hours, bytes through shared storage,
storage needed, wall time and dollars for a raw tree on a ParallelCluster file.

Inputs: the raw tree (only ``.ns5`` headers and data-block headers are read, through
:func:`hippoflow.plan.make_plan` and :mod:`hippoflow.ripple.nsx`), a Snakemake profile (its
``groups`` / ``group-components``), a cluster file (``cluster-config.yaml``: queues, instance
types, head node, shared storage), ``config/prices.yaml`` (instance figures and prices, dated)
and ``benchmarks/rates.json`` (per-job rates measured by ``make bench``).  Output:
:func:`estimate`'s dict, printed by ``python -m hippoflow.estimate``.

The model (every rate from rates.json, every instance figure from prices.yaml):
* jobs per rule counted from the plan as the dry run makes them; submissions = ungrouped jobs
  + ceil(connected components of each group / its group-components);
* CPU seconds per job = start-up + rate x channel-hours of its data;
* bytes through shared storage: every byte a job reads or writes on the shared volume
  (``default``: split, high-pass and LFP files live there; ``nodelocal``: a day's split and
  high-pass files stay on the node, only the raw input, the LFP and the NWB files cross it;
  :func:`day_bytes` has the formula);
* per queue (the profile's slurm_partition per rule; unnamed rules on the first queue): the
  nodes Slurm starts for the jobs queued at once (min(submissions, profile `jobs`, queue
  cores) / vCPUs per node) stay up for max(its core-seconds incl. per-submission overhead /
  its cores, shared bytes / shared-storage throughput if it runs channel work, its longest
  Slurm job -- a group runs its members one after the other on one core);
* wall time = the longest of these; dollars = each queue's nodes x that time x its price
  (spot: x spot_fraction) + the head node and the shared storage for the wall time.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import yaml

from hippoflow import naming
from hippoflow.plan import make_plan
from hippoflow.ripple import nsx

REPO = Path(__file__).resolve().parents[2]
PRICES = REPO / "config" / "prices.yaml"
RATES = REPO / "benchmarks" / "rates.json"
MODES = ("default", "nodelocal")
LOCAL = ("all", "input_problem")


def merged(base: dict, over: dict) -> dict:
    """``over`` on top of ``base``, section by section (a config file's ``nwb: {enabled:
    false}`` keeps the section's other defaults), as Snakemake fills a validated config."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


# ----------------------------------------------------------------------------- the tree
def session_lengths(plan, assume_seconds: float | None = None) -> dict:
    """(subject, day, session) -> (samples, rate, channels in the file) from the headers."""
    out = {}
    for s in plan.neural_sessions():
        header = nsx.read_nsx_header(s.ns5[0])
        n = sum(b.n_samples for b in nsx.nsx_data_blocks(header))
        fs = header.sampling_rate
        if assume_seconds is not None:
            n = int(round(assume_seconds * fs))
        out[s.key] = (n, fs, len(header.channels))
    return out


def count_jobs(plan) -> dict[str, dict]:
    """Per (subject, day): jobs per rule as the dry run makes them."""
    days: dict = defaultdict(lambda: defaultdict(int))
    for s in plan.sessions:
        d = days[(s.subject, s.day)]
        if len(s.nev) == 1:
            d["rplparallel"] += 1
            d["qc_trials"] += 1
        if s.channels:
            d["rplsplit"] += 1
            d["qc_lfp"] += 1
            d["rpllfp"] += 1  # every channel of the session in one job
            d["rplhighpass"] += len(s.channels)
    for s in plan.unity_sessions():
        days[(s.subject, s.day)]["unity"] += 1
        days[(s.subject, s.day)]["align_unity"] += 1
    eye_days = set()
    for s in plan.eyelink_sessions():
        d = days[(s.subject, s.day)]
        d["eyelink"] += 1
        d["align_eyelink"] += 1
        eye_days.add((s.subject, s.day))
        if not naming.is_fixation(s.name):
            d["raycast"] += 1
    for day in eye_days:
        days[day]["edfsplit"] += 1
    for (subject, day), chans in plan.day_channels.items():
        d = days[(subject, day)]
        for _a, c in chans:
            for rule in ("sort", "curate"):
                d[rule] += 1
            if len(plan.channel_arrays[(subject, day, c)]) == 1:
                d["waveform_templates"] += 1
        d["qc_metrics"] += 1
    if plan.nwb:  # one NWB file per session with one .nev (Plan.nwb_targets)
        for s in plan.marker_sessions():
            days[(s.subject, s.day)]["nwb"] += 1
    for key, _ in plan.problems:
        days[key[:2]]["input_problem"] += 1
    return {k: dict(v) for k, v in days.items()}


def group_components(plan, groups: dict[str, str]) -> dict[tuple, dict[str, int]]:
    """Per (subject, day): connected components of each group's jobs (jobs linked by a
    dependency between two members of the same group, as Snakemake forms group jobs)."""
    parent: dict = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def link(a, b):
        if groups.get(a[0]) is not None and groups.get(a[0]) == groups.get(b[0]):
            parent[find(a)] = find(b)

    nodes = []
    for s in plan.neural_sessions():
        split = ("rplsplit", s.key)
        qc = ("qc_lfp", s.key)
        lfp = ("rpllfp", s.key)
        nodes += [split, qc, lfp]
        link(lfp, split)
        link(qc, lfp)
        for ac in s.channels:
            hp = ("rplhighpass", s.key, ac)
            nodes.append(hp)
            link(hp, split)
    for (subject, day), chans in plan.day_channels.items():
        metrics = ("qc_metrics", (subject, day))
        nodes.append(metrics)
        for (a, c), sessions in chans.items():
            dc = (subject, day, a, c)
            srt, cur = ("sort", dc), ("curate", dc)
            nodes += [srt, cur]
            for name in sessions:
                link(srt, ("rplhighpass", (subject, day, name), (a, c)))
            link(cur, srt)
            if len(plan.channel_arrays[(subject, day, c)]) == 1:
                nodes.append(("waveform_templates", dc))
                link(("waveform_templates", dc), cur)
            link(metrics, cur)
    out: dict = defaultdict(lambda: defaultdict(set))
    for node in nodes:
        g = groups.get(node[0])
        if g is None:
            continue
        key = node[1][:2]
        out[key][g].add(find(node))
    return {day: {g: len(roots) for g, roots in gs.items()} for day, gs in out.items()}


def submissions(jobs: dict[str, int], comps: dict[str, int], groups, ncomp) -> int:
    ungrouped = sum(v for r, v in jobs.items() if r not in groups and r not in LOCAL)
    return ungrouped + sum(math.ceil(c / int(ncomp.get(g, 1))) for g, c in comps.items())


# ----------------------------------------------------------------------------- inputs
def load_profile(profile) -> tuple[dict, dict]:
    path = Path(profile)
    path = path / "config.yaml" if path.is_dir() else path
    prof = yaml.safe_load(path.read_text()) or {}
    return prof.get("groups", {}) or {}, prof.get("group-components", {}) or {}


def profile_queues(profile) -> tuple[dict[str, str], int]:
    """rule -> Slurm partition named by the profile, and its `jobs` limit (default 200)."""
    path = Path(profile)
    path = path / "config.yaml" if path.is_dir() else path
    prof = yaml.safe_load(path.read_text()) or {}
    parts = {
        r: v["slurm_partition"]
        for r, v in (prof.get("set-resources") or {}).items()
        if isinstance(v, dict) and "slurm_partition" in v
    }
    return parts, int(prof.get("jobs", 200))


def load_cluster(cluster_file) -> dict:
    """Queues (instance, max nodes), head node and shared storage of a cluster file."""
    cfg = yaml.safe_load(Path(cluster_file).read_text())
    queues = {}
    for q in cfg["Scheduling"]["SlurmQueues"]:
        res = q["ComputeResources"][0]
        itype = res.get("InstanceType") or res["Instances"][0]["InstanceType"]
        queues[q["Name"]] = {
            "instance": itype,
            "max_nodes": int(res.get("MaxCount", 10)),
            "spot": q.get("CapacityType", "ONDEMAND") == "SPOT",
        }
    storage = []
    for st in cfg.get("SharedStorage", []):
        item = {"type": st["StorageType"], "mount": st["MountDir"]}
        if st["StorageType"] == "FsxLustre":
            fs = st.get("FsxLustreSettings", {})
            item.update(
                capacity_gb=int(fs.get("StorageCapacity", 1200)),
                mbps_per_tib=int(fs.get("PerUnitStorageThroughput", 200)),
                deployment=fs.get("DeploymentType", "SCRATCH_2"),
            )
        elif st["StorageType"] == "Ebs":
            eb = st.get("EbsSettings", {})
            item.update(capacity_gb=int(eb.get("Size", 35)), mbps=int(eb.get("Throughput", 125)))
        storage.append(item)
    return {"head": cfg["HeadNode"]["InstanceType"], "queues": queues, "storage": storage}


def storage_usd_per_hour(cluster: dict, prices: dict) -> float:
    """Dollars per hour of the cluster's shared storage while it exists (GB-month / 730 h)."""
    px = prices.get("storage", {})
    usd = 0.0
    for st in cluster["storage"]:
        if st["type"] == "FsxLustre":
            dep = str(st.get("deployment", "SCRATCH_2")).lower().replace("_", "")
            key = f"fsx_lustre_{dep}_{st['mbps_per_tib']}_usd_per_gb_month"
            rate = px.get(key, px.get(f"fsx_lustre_{dep}_usd_per_gb_month", 0.0))
        elif st["type"] == "Ebs":
            rate = px.get("ebs_gp3_usd_per_gb_month", 0.0)
        else:
            rate = 0.0
        usd += st.get("capacity_gb", 0) * float(rate) / 730.0
    return usd


def shared_throughput(cluster: dict, prices: dict) -> tuple[float, str]:
    """Sustained bytes/s of the shared storage that holds /data, and how it was found."""
    inst = prices["instances"]
    head = inst[cluster["head"]]
    for st in cluster["storage"]:
        if st["type"] == "FsxLustre":
            mbps = st["capacity_gb"] / 1024 * st["mbps_per_tib"]
            return (
                mbps * 1e6,
                f"FSx for Lustre {st['capacity_gb']} GB x {st['mbps_per_tib']} MB/s/TiB",
            )
    ebs = next((st for st in cluster["storage"] if st["type"] == "Ebs"), None)
    limits = [head["network_gbps"] * 1e9 / 8, head["ebs_mbps"] * 1e6]
    how = f"NFS from head node {cluster['head']}"
    if ebs:
        limits.append(ebs["mbps"] * 1e6)
    return min(limits), how


# ----------------------------------------------------------------------------- the model
def _size(path) -> float:
    try:
        return float(Path(path).stat().st_size)
    except OSError:  # a dangling or unreadable file: a planning problem, no job reads it
        return 0.0


def day_bytes(
    lengths,
    plan,
    day,
    mode: str,
    split_ratio: float = 1.0,
    nwb_ratio: float | None = None,
    digests: bool = False,
    lfp_rate: float = 1000.0,
) -> dict[str, float]:
    """Bytes read and written on shared storage for one day, and bytes kept there.

    R (the ``.ns5``, read by the split), S (split and high-pass files, float32), L (LFP files
    at ``lfp_rate``: S / 30 at 1 kHz) as in the README's "Node-local mode": ``default`` moves
    R + 5 S + 2 L (LFP written, read by qc_lfp), ``nodelocal`` R + 2 L. ``nwb_ratio`` (the NWB
    file's bytes per LFP byte; None: no NWB export) adds L (read) + W (written, kept). Every
    mode adds the ``.nev`` files (read by rplparallel, and hashed by the provenance page when ``digests``),
    and the Unity logs and EyeLink files (read once by their jobs). Sorts, markers, behaviour
    objects and figures are not counted (small next to these: README)."""
    raw = split_w = hp_w = lfp_w = 0.0
    for s in plan.neural_sessions():
        if (s.subject, s.day) != day:
            continue
        n, fs, n_file = lengths[s.key]
        c = len(s.channels)
        raw += 2.0 * n * n_file  # the .ns5 read once by the split
        split_w += 4.0 * n * c * split_ratio
        hp_w += 4.0 * n * c
        lfp_w += 4.0 * n * c * lfp_rate / fs
    nev = behaviour = 0.0
    for s in plan.sessions:
        if (s.subject, s.day) == day:
            nev += sum(_size(p) for p in s.nev)
            behaviour += sum(_size(p) for p in plan.unity_logs.get(s.key, ()))
    behaviour += sum(_size(p) for p in plan.navigation_eye_files(day))
    behaviour += sum(_size(p) for p in plan.fixation_eye_files(day))
    if mode == "nodelocal":
        moved = raw + 2 * lfp_w  # split and high-pass stay on the node
        kept = lfp_w
    else:
        # split: written, read by LFP and high-pass; high-pass: written once, read by the sort
        moved = raw + split_w * 3 + hp_w * 2 + 2 * lfp_w
        kept = split_w + hp_w + lfp_w
    if nwb_ratio is not None:
        moved += lfp_w + nwb_ratio * lfp_w
        kept += nwb_ratio * lfp_w
    moved += nev * (2 if digests else 1) + behaviour
    return {"raw": raw + nev + behaviour, "moved": moved, "kept": kept}


def estimate(
    data_root,
    profile=REPO / "profiles" / "pcluster",
    mode: str = "default",
    cluster_file=None,
    prices=PRICES,
    rates=RATES,
    assume_seconds: float | None = None,
    config: dict | None = None,
) -> dict:
    """The plan's prediction: per day and in total (see the module docstring).

    ``mode``: ``default`` (everything on the shared volume) or ``nodelocal`` (a day's split
    and high-pass files on the node).  ``assume_seconds``: a recording length per session to
    use instead of the headers' (planning on header-only trees).  Returns a dict with
    ``days`` (per day) and ``total``; ``total["wall_s"]`` is the predicted wall time."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    from hippoflow.config import defaults

    cfg = {**merged(defaults(), config or {}), "data_root": str(data_root)}
    plan = make_plan(cfg)
    groups, ncomp = load_profile(profile)
    cluster_file = cluster_file or REPO / "profiles" / "pcluster" / "cluster-config.yaml"
    cluster = load_cluster(cluster_file)
    px = yaml.safe_load(Path(prices).read_text())
    rt = json.loads(Path(rates).read_text())
    lengths = session_lengths(plan, assume_seconds)
    jobs = count_jobs(plan)
    comps = group_components(plan, groups)
    split_ratio = float(
        rt.get("split_size_ratio", {}).get(cfg.get("split_compression", "none"), 1.0)
    )
    nwb_ratio = float(rt.get("nwb_size_ratio", 1.0)) if cfg["nwb"]["enabled"] else None
    digests = bool(cfg["report"]["input_digests"])
    lfp_rate = float(cfg["lfp"]["ResampleRate"])

    def cpu_s(day) -> float:
        return sum(rule_s(day).values())

    def rule_s(day) -> dict[str, float]:
        hours = defaultdict(float)  # channel-hours per rule
        for s in plan.neural_sessions():
            if (s.subject, s.day) != day:
                continue
            n, fs, _ = lengths[s.key]
            ch_h = len(s.channels) * n / fs / 3600
            for rule in ("rplsplit", "rpllfp", "rplhighpass"):
                hours[rule] += ch_h
            hours["sort"] += ch_h
        per_ch_h = rt["seconds_per_channel_hour"]
        start = float(rt["job_start_s"])
        fixed = rt.get("seconds_per_job", {})
        out: dict[str, float] = defaultdict(float)
        for rule, count in jobs[day].items():
            if rule in LOCAL:
                continue
            out[rule] += count * (start + float(fixed.get(rule, rt["default_job_s"])))
        for rule, h in hours.items():
            out[rule] += h * float(per_ch_h.get(rule, 0.0))
        return dict(out)

    bw, bw_how = shared_throughput(cluster, px)
    inst = px["instances"]
    parts, jobs_limit = profile_queues(profile)
    qnames = list(cluster["queues"])
    default_q = qnames[0]

    def queue_of(rule: str) -> str:
        q = parts.get(rule, default_q)
        return q if q in cluster["queues"] else default_q

    overhead = float(rt["slurm_overhead_s"])
    days_out = {}
    tot = defaultdict(float)
    all_jobs: dict[str, int] = defaultdict(int)
    all_comps: dict[str, int] = defaultdict(int)
    q_core_s: dict[str, float] = defaultdict(float)  # per queue: core-seconds incl. overhead
    q_subs: dict[str, int] = defaultdict(int)
    q_longest: dict[str, float] = defaultdict(float)  # longest single Slurm job per queue
    for day in sorted(jobs):
        j = jobs[day]
        c = comps.get(day, {})
        for r, v in j.items():
            all_jobs[r] += v
        for g, v in c.items():
            all_comps[g] += v
        b = day_bytes(lengths, plan, day, mode, split_ratio, nwb_ratio, digests, lfp_rate)
        per_rule = rule_s(day)
        for r, sec in per_rule.items():
            q_core_s[queue_of(r)] += sec
        for r, v in j.items():
            if r not in groups and r not in LOCAL:
                q_subs[queue_of(r)] += v
                q_core_s[queue_of(r)] += v * overhead
                one = per_rule.get(r, 0.0) / max(1, v) + overhead
                q_longest[queue_of(r)] = max(q_longest[queue_of(r)], one)
        for g, n in c.items():
            members = [r for r, gg in groups.items() if gg == g]
            n_sub = math.ceil(n / int(ncomp.get(g, 1)))
            q = queue_of(members[0]) if members else default_q
            q_subs[q] += n_sub
            q_core_s[q] += n_sub * overhead
            group_s = sum(per_rule.get(r, 0.0) for r in members)
            # a group is one Slurm job running its members one after the other on one core
            q_longest[q] = max(q_longest[q], group_s / max(1, n_sub) + overhead)
        row = {
            "jobs": sum(v for r, v in j.items() if r not in LOCAL),
            "submissions": submissions(j, c, groups, ncomp),
            "core_s": cpu_s(day),
            "shared_bytes": b["moved"],
            "raw_bytes": b["raw"],
            "storage_bytes": b["kept"] + b["raw"],
        }
        days_out["/".join(day)] = row
        for k in ("jobs", "core_s", "shared_bytes", "raw_bytes", "storage_bytes"):
            tot[k] += row[k]
    if plan.sessions:  # one provenance page for the run
        all_jobs["provenance"] += 1
        tot["jobs"] += 1
        extra = float(rt["job_start_s"]) + float(rt["default_job_s"])
        tot["core_s"] += extra
        q_core_s[queue_of("provenance")] += extra + overhead
        q_subs[queue_of("provenance")] += 1
    total = dict(tot)
    total["submissions"] = submissions(all_jobs, all_comps, groups, ncomp)
    core_s = total.get("core_s", 0.0) + total["submissions"] * overhead
    io_wall = total.get("shared_bytes", 0.0) / bw
    # queues that carry the channel work wait on shared storage while it is the limit
    bulk = {queue_of(r) for r in ("rplsplit", "rpllfp", "rplhighpass", "sort")}
    per_q = {}
    for q, qs in q_core_s.items():
        spec = inst[cluster["queues"][q]["instance"]]
        vcpus = int(spec["vcpus"])
        # Slurm starts nodes for the jobs queued at once (the profile's `jobs`, at most the
        # queue's cores); they stay up while their jobs run or wait on storage
        conc = max(1, min(q_subs[q], jobs_limit, vcpus * cluster["queues"][q]["max_nodes"]))
        nodes = math.ceil(conc / vcpus)
        cpu = qs / (nodes * vcpus)
        busy = max(cpu, io_wall if q in bulk else 0.0, q_longest[q])
        per_q[q] = {"nodes": nodes, "busy_s": busy, "cpu_s": cpu, "usd_h": spec["usd_per_hour"]}
    longest = max(q_longest.values(), default=0.0)
    cpu_wall = max((v["cpu_s"] for v in per_q.values()), default=0.0)
    wall = max([v["busy_s"] for v in per_q.values()] + [io_wall])
    node_hours = sum(v["nodes"] * v["busy_s"] for v in per_q.values()) / 3600
    node_usd = sum(v["nodes"] * v["busy_s"] * v["usd_h"] for v in per_q.values()) / 3600
    head_usd = inst[cluster["head"]]["usd_per_hour"] * wall / 3600
    storage_usd = storage_usd_per_hour(cluster, px) * wall / 3600
    cores = sum(
        inst[q["instance"]]["vcpus"] * q["max_nodes"]
        for name, q in cluster["queues"].items()
        if name in per_q
    )
    total.update(
        wall_s=wall,
        cpu_wall_s=cpu_wall,
        io_wall_s=io_wall,
        longest_submission_s=longest,
        bound=max(
            (("storage", io_wall), ("cpu", cpu_wall), ("longest job", longest)),
            key=lambda kv: kv[1],
        )[0],
        core_hours=core_s / 3600,
        node_hours=node_hours,
        usd_nodes=node_usd,
        usd_head=head_usd,
        usd_storage=storage_usd,
        usd_on_demand=node_usd + head_usd + storage_usd,
        usd_spot=node_usd * float(px["spot_fraction"]) + head_usd + storage_usd,
        shared_throughput_bps=bw,
        shared_storage=bw_how,
        compute_cores=cores,
        queues={q: {"nodes": v["nodes"], "busy_h": v["busy_s"] / 3600} for q, v in per_q.items()},
    )
    return {
        "mode": mode,
        "cluster_file": str(cluster_file),
        "profile": str(profile),
        "prices_date": str(px["date"]),
        "rates": str(rates),
        "days": days_out,
        "total": total,
    }
