"""The test cluster: bytes through shared storage in the default and the node-local mode, per
demo and extrapolated to issue 13's day, and the estimator's wall time against the measured.

One run (``python -m benchmarks cluster``, as root on Debian: tests/cluster/localslurm.py
installs and starts the one-node Slurm cluster; without it the benchmark fails with the
reason) generates the demo day of ``python -m tests.cluster.measure_nodelocal`` (2 channels,
``session01`` + ``sessioneye`` of 20 s) and runs it with ``profiles/pcluster`` and then with
``profiles/pcluster-nodelocal`` (tests.cluster.measure_nodelocal.cluster_runs). Shared bytes
are counted as there: every declared input of a job on the raw or output tree, once per job
(the .ns5 of rplparallel and nwb at its header's size: they read no samples), and every file left under the
output tree.

Per day: each counted file is split into what grows with the recording and what does not.
Growing: an ``.ns5`` whole (class R), the datasets of a split or high-pass file (S) and of an
LFP file (L), the datasets of at least 100 rows of any other HDF5 file, any other raw file
(markers, behaviour logs) and .csv table whole; the rest (HDF5 headers, figures, reports,
.ns5 headers read alone) is fixed per file. The demo's measured multiples of its own R (.ns5
bytes), S (4 x channels x samples) and L (S / 30) are applied to the day's R, S and L; other
growing bytes scale with the recording's channel-seconds (under a channel directory, and an
NWB file's ecephys and units) or seconds (the rest: behaviour, markers); fixed bytes with the
number of files (channels x sessions for a channel's files, sessions for the rest). The
multiples (``x_R``, ``x_S``, ``x_L``) are given beside each figure, to compare with docs/node-local.md's
formula.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import h5py

from benchmarks._measure import REPO, WORK, row
from tests.cluster import localslurm
from tests.cluster.clusterutil import generate
from tests.cluster.finals import differences
from tests.cluster.measure_nodelocal import cluster_runs
from tests.cluster.test_nodelocal import ESTIMATE_FACTOR

#: issue 13's day: 2.5 h of 124-channel Ripple data (67 GB of .ns5), as benchmarks/bench_forecast
DAY_CHANNELS, DAY_SESSIONS, DAY_SECONDS, FS = 124, 3, 9000.0, 30000.0
DAY_R = 2.0 * DAY_CHANNELS * DAY_SECONDS * FS  # int16 samples: 67 GB
DAY_S = 4.0 * DAY_CHANNELS * DAY_SECONDS * FS  # float32 split (and high-pass): 134 GB
DAY_L = DAY_S / 30  # float32 at 1 kHz: 4.5 GB
TARGET_TB = 0.1
INTERMEDIATE = {"rplraw_": "S", "rplhighpass_": "S", "rpllfp_": "L"}
HDF5 = (".hkl", ".hdf", ".nwb")
ROWS = 100  # a dataset with at least this many rows grows with the recording
CHANNEL_DIR = re.compile(r"channel\d+")


def demo_sizes(data: Path) -> dict[str, float]:
    """The demo's R, S, L, channels, sessions and recorded seconds, from the .ns5 headers."""
    from hippoflow.config import defaults
    from hippoflow.estimate import session_lengths
    from hippoflow.plan import make_plan

    plan = make_plan({**defaults(), "data_root": str(data)})
    lengths = session_lengths(plan)
    sessions = plan.neural_sessions()
    s_bytes = sum(4.0 * len(s.channels) * lengths[s.key][0] for s in sessions)
    return {
        "R": float(sum(p.stat().st_size for p in data.rglob("*.ns5"))),
        "S": s_bytes,
        "L": s_bytes / 30,
        "channels": len({c for chans in plan.day_channels.values() for c in chans}),
        "sessions": len(sessions),
        "seconds": sum(lengths[s.key][0] / lengths[s.key][1] for s in sessions),
    }


def file_parts(path: Path, raw: bool) -> tuple[dict[str, int], int]:
    """(growing bytes by class, fixed bytes) of one file of the raw tree (``raw``) or of the
    output tree (see the module docstring)."""
    size = path.stat().st_size
    per_channel = any(CHANNEL_DIR.fullmatch(p) for p in path.parts)
    other = "channel_time" if per_channel else "time"
    if path.suffix == ".ns5":
        return {"R": size}, 0
    if raw or path.suffix == ".csv":  # raw markers, behaviour logs; tables of spikes, samples
        return {other: size}, 0
    if path.suffix not in HDF5:
        return {}, size
    cls = next((c for p, c in INTERMEDIATE.items() if path.name.startswith(p)), other)
    grow: dict[str, int] = defaultdict(int)
    with h5py.File(path, "r") as f:

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.ndim and obj.dtype.kind != "S":
                if obj.shape[0] >= ROWS:
                    ephys = path.suffix == ".nwb" and re.search(r"ecephys|units|acquisition", name)
                    grow["channel_time" if ephys else cls] += obj.id.get_storage_size()

        f.visititems(visit)
    return dict(grow), size - sum(grow.values())


def per_day(files: dict[str, dict], data: Path, demo: dict[str, float]) -> dict[str, float]:
    """Shared bytes per day from the demo's counted files, and the multiples of R, S and L."""
    ch, sess = DAY_CHANNELS / demo["channels"], DAY_SESSIONS / demo["sessions"]
    scale = {
        "R": DAY_R / demo["R"],
        "S": DAY_S / demo["S"],
        "L": DAY_L / demo["L"],
        "channel_time": ch * DAY_SECONDS / demo["seconds"],
        "time": DAY_SECONDS / demo["seconds"],
    }
    by_class: dict[str, float] = defaultdict(float)  # demo bytes moved, by class
    day = defaultdict(float)  # day bytes moved, by class
    for name, f in files.items():
        day["fixed"] += f["header_reads"] * f["header"] * sess  # an .ns5 header, per session
        times = f["reads"] + f["written"]
        if not times:
            continue
        grow, fixed = file_parts(Path(name), raw=name.startswith(f"{data}/"))
        for cls, b in grow.items():
            by_class[cls] += times * b
            day[cls] += times * b * scale[cls]
        per_channel = any(CHANNEL_DIR.fullmatch(p) for p in Path(name).parts)
        day["fixed"] += times * fixed * (ch * sess if per_channel else sess)
    return {
        "total": sum(day.values()),
        "x_R": by_class["R"] / demo["R"],
        "x_S": by_class["S"] / demo["S"],
        "x_L": by_class["L"] / demo["L"],
        "other_gb": (day["channel_time"] + day["time"] + day["fixed"]) / 1e9,
    }


WORKFLOW = ("Snakefile", "rules", "scripts", "hippoflow", "profiles", "config")


def source_state() -> tuple[str, str]:
    """(the commit measured, with '+dirty' if the workflow's files differ from it; a
    fingerprint of the workflow's files, to see a change during the runs: commits that touch
    only other files, such as the README, leave it alone)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout

    head = git("rev-parse", "--short", "HEAD").strip()
    trees = git("rev-parse", *(f"HEAD:{p}" for p in WORKFLOW))
    diff = git("diff", "HEAD", "--", *WORKFLOW)
    untracked = git("ls-files", "--others", "--exclude-standard", "--", *WORKFLOW).split()
    h = hashlib.sha1((trees + diff).encode())
    for f in untracked:
        h.update(f.encode() + (REPO / f).read_bytes())
    return head + ("+dirty" if diff or untracked else ""), h.hexdigest()[:12]


def check_cluster() -> None:
    """Fail with the reason when this machine cannot run the test cluster (no fake numbers)."""
    reason = localslurm.why_unavailable()
    if reason:
        raise localslurm.SlurmUnavailable(f"cannot start the local Slurm cluster: {reason}")


def start_cluster(root: Path):
    check_cluster()
    try:
        return localslurm.start(root, log=lambda m: print(m, flush=True))
    except subprocess.CalledProcessError as exc:  # apt-get could not install Slurm
        raise localslurm.SlurmUnavailable(
            f"cannot install Slurm: {' '.join(exc.cmd)} failed ({exc.returncode}): "
            f"{(exc.stderr or b'').decode(errors='replace')[-2000:]}"
        ) from exc


def run() -> list[dict]:
    from hippoflow.estimate import estimate

    check_cluster()
    work = WORK / "cluster"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    state = source_state()
    try:
        data = generate(work)
        demo = demo_sizes(data)
        cluster = start_cluster(work / "slurm")
        try:
            t0 = time.monotonic()
            default, nodelocal = cluster_runs(data, work, cluster)
            runs_s = time.monotonic() - t0
        finally:
            cluster.stop()
        after = source_state()
        if after[1] != state[1]:  # the numbers are labelled, not dropped: say so loudly
            print(f"WARNING: the workflow changed during the runs: {state} -> {after}", flush=True)
            state = (f"{state[0]} -> {after[0]} (workflow changed during the runs)", "")
        diffs = differences(default["out"], nodelocal["out"], [nodelocal["node"]])
        runs = {"default": default, "node-local": nodelocal}
        mb = {k: (r["shared"]["read"] + r["shared"]["written"]) / 1e6 for k, r in runs.items()}
        days = {k: per_day(r["shared_files"], data, demo) for k, r in runs.items()}
        rows = []
        for k, r in runs.items():
            nl = k == "node-local"
            rows.append(
                row(
                    f"cluster: shared bytes, demo, {k}",
                    mb[k],
                    "MB",
                    baseline=round(mb["default"], 2) if nl else None,
                    ratio=mb[k] / mb["default"] if nl else None,
                    read_mb=round(r["shared"]["read"] / 1e6, 2),
                    read_if_whole_mb=round(r["shared"]["read_if_whole"] / 1e6, 2),
                    written_mb=round(r["shared"]["written"] / 1e6, 2),
                    jobs=r["jobs"],
                    sbatch=r["sbatch"],
                    node_peak_mb=round(r["node_peak_bytes"] / 1e6, 2),
                    intermediates_in_output_tree=len(r["intermediates_in_output_tree"]),
                    target="finals as default's, none of its intermediates" if nl else None,
                    ok=not diffs and not r["intermediates_in_output_tree"] if nl else None,
                    **({"finals_differences": len(diffs), "first": diffs[:3]} if nl else {}),
                    scale=f"{demo['channels']} ch, {demo['sessions']} sessions, "
                    f"{demo['seconds']:g} s; R {demo['R'] / 1e6:.2f} MB, S {demo['S'] / 1e6:.2f} MB",
                    commit=state[0],
                )
            )
        for k in runs:
            nl = k == "node-local"
            d = days[k]
            rows.append(
                row(
                    f"cluster: shared bytes per day, {k} (from the demo's)",
                    d["total"] / 1e12,
                    "TB",
                    baseline=round(days["default"]["total"] / 1e12, 3) if nl else None,
                    ratio=d["total"] / days["default"]["total"] if nl else None,
                    target=f"<= {TARGET_TB} TB" if nl else None,
                    ok=d["total"] / 1e12 <= TARGET_TB if nl else None,
                    x_R=round(d["x_R"], 3),
                    x_S=round(d["x_S"], 3),
                    x_L=round(d["x_L"], 3),
                    other_gb=round(d["other_gb"], 2),
                    scale=f"{DAY_CHANNELS} ch, {DAY_SECONDS / 3600:g} h, "
                    f"R {DAY_R / 1e9:.0f} GB .ns5",
                    commit=state[0],
                )
            )
        for k, r in runs.items():
            mode = "nodelocal" if k == "node-local" else "default"
            profile = "pcluster-nodelocal" if mode == "nodelocal" else "pcluster"
            est = estimate(data, profile=REPO / "profiles" / profile, mode=mode)["total"]
            ratio = est["wall_s"] / r["wall_s"]
            rows.append(
                row(
                    f"cluster: estimator wall time vs measured, demo, {k}",
                    est["wall_s"],
                    "s",
                    baseline=round(r["wall_s"], 1),
                    ratio=ratio,
                    target=f"within x{ESTIMATE_FACTOR:g}",
                    ok=1 / ESTIMATE_FACTOR <= ratio <= ESTIMATE_FACTOR,
                    predicted_shared_mb=round(est["shared_bytes"] / 1e6, 2),
                    measured_shared_mb=round(mb[k], 2),
                    bound=est["bound"],
                    commit=state[0],
                )
            )
        rows[-1]["both_runs_s"] = round(runs_s, 1)
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)
