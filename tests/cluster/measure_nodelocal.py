"""Bytes through shared storage in the default and the node-local mode, on the local test
cluster (not a test: ``python -m tests.cluster.measure_nodelocal [--channels N --seconds S]``,
as root, no other cluster session running).

Runs one generated day three ways: locally with ``--cores`` (the reference), with
``--profile profiles/pcluster`` and with ``--profile profiles/pcluster-nodelocal``; checks that
the final outputs of both Slurm runs equal the local run's (tests/cluster/finals.py), and
prints, per mode, the bytes that cross the shared trees (data_root and output_root):

* written = every file left under the output tree (each is written once; a file written twice
  shows in the benchmark's io_out), read = the declared inputs of every job that lie on the
  shared trees, with their sizes at the end of the run (an .ns5 that rplparallel or nwb reads
  only the header of: its header's size);
* the benchmark files' io_in / io_out per rule (block-device bytes of the job's process tree,
  local and shared alike; reads served from the page cache count 0);
* the peak size of the node-local directory (polled every 0.2 s).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from . import localslurm
from .clusterutil import STATUS_OVERRIDES, generate, run, snakemake_cmd
from .finals import differences, intermediate_files

JOB_RE = re.compile(r"^\s*(?:local)?rule (\w+):\n(?P<body>(?:^\s+\w+: .*\n)+)", re.MULTILINE)


def planned(text: str) -> list[dict]:
    """rule, input and output lists of each job block of a dry run."""
    jobs = []
    for m in JOB_RE.finditer(text):
        job = {"rule": m.group(1), "input": [], "output": []}
        for line in m.group("body").splitlines():
            key, _, val = line.strip().partition(": ")
            if key in ("input", "output"):
                job[key] = [re.sub(r" \(\w+\)$", "", v.strip()) for v in val.split(", ")]
        jobs.append(job)
    return jobs


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())


def benchmark_io(work: Path) -> dict[str, list[float]]:
    """Sum of io_in, io_out (MB) per rule over the run's benchmark files."""
    out = defaultdict(lambda: [0.0, 0.0])
    for tsv in (work / "benchmarks" / "runs").rglob("*.tsv"):
        rule = tsv.relative_to(work / "benchmarks" / "runs").parts[0]
        with tsv.open() as f:
            for row in csv.DictReader(f, delimiter="\t"):
                out[rule][0] += float(row["io_in"])
                out[rule][1] += float(row["io_out"])
    return dict(out)


#: declared inputs a job reads only the header of, counted at the header's size: rplparallel
#: pair-checks the .nev with the .ns5 and compares the trial times with the data's end
#: (hippoflow.ripple.steps.rplparallel); nwb takes the recording's time origin and, for a split
#: session, the .ns5's SHA-256 from the split's digest record (hippoflow.nwb.provenance; a
#: session not split has its .ns5 hashed, counted as a header read here all the same)
HEADER_ONLY = {("rplparallel", ".ns5"), ("nwb", ".ns5")}


def header_bytes(path: Path) -> int:
    """An .ns5's header and data-packet headers: what a header-only reader reads of it."""
    from hippoflow.ripple import nsx

    header = nsx.read_nsx_header(path)
    return header.bytes_in_headers + header.packet_header_bytes * len(nsx.nsx_data_blocks(header))


def shared_files(jobs, data: Path, out: Path) -> dict[str, dict[str, int]]:
    """Every file on the shared trees a job read or the run left: path -> its size at the end
    of the run, how many jobs declared it as an input and read it whole (``reads``) or only its
    header (``header_reads``, of ``header`` bytes; HEADER_ONLY), and whether it is under the
    output tree (``written``, once)."""
    shared = (str(data), str(out))
    files: dict[str, dict[str, int]] = {}
    for j in jobs:
        if j["rule"] == "all":  # reads nothing: its inputs are the run's targets
            continue
        for f in j["input"]:
            if f.startswith(shared) and Path(f).is_file():
                entry = files.setdefault(f, {"size": Path(f).stat().st_size, "reads": 0})
                if (j["rule"], Path(f).suffix) in HEADER_ONLY:
                    entry.setdefault("header", header_bytes(Path(f)))
                    entry["header_reads"] = entry.get("header_reads", 0) + 1
                else:
                    entry["reads"] += 1
    for p in Path(out).rglob("*"):
        if p.is_file():
            files.setdefault(str(p), {"size": p.stat().st_size, "reads": 0})
    for f, entry in files.items():
        entry.setdefault("header", 0)
        entry.setdefault("header_reads", 0)
        entry["written"] = int(f.startswith(str(out)))
    return files


def shared_bytes(jobs, data: Path, out: Path, node: Path | None) -> dict[str, int]:
    files = shared_files(jobs, data, out).values()
    return {
        "read": sum(f["size"] * f["reads"] + f["header"] * f["header_reads"] for f in files),
        "written": sum(f["size"] * f["written"] for f in files),
        # the same, counting every declared input as read whole
        "read_if_whole": sum(f["size"] * (f["reads"] + f["header_reads"]) for f in files),
    }


class Poller(threading.Thread):
    """Peak bytes under a directory and any intermediate seen under the output tree."""

    def __init__(self, node: Path | None, out: Path):
        super().__init__(daemon=True)
        self.node, self.out, self.peak, self.seen = node, out, 0, set()
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            if self.node and self.node.exists():
                try:
                    self.peak = max(self.peak, tree_bytes(self.node))
                except FileNotFoundError:
                    pass
            if self.out.exists():
                try:
                    self.seen.update(intermediate_files(self.out))
                except FileNotFoundError:
                    pass
            time.sleep(0.2)


def one_run(profile, data, root, name, cluster=None, config=()):
    out, work = root / f"out_{name}", root / f"work_{name}"
    work.mkdir()
    node = root / "node" if any("node_local_dir" in c for c in config) else None
    extra = ["--cores", "2"] if cluster is None else list(STATUS_OVERRIDES)
    env = cluster.env if cluster else None
    dry = run(snakemake_cmd(profile, data, out, "-n", config=config), work, env)
    assert dry.returncode == 0, dry.stderr[-3000:]
    poll = Poller(node, out)
    poll.start()
    t0 = time.monotonic()
    done = run(snakemake_cmd(profile, data, out, *extra, config=config), work, env, timeout=3600)
    wall = time.monotonic() - t0
    poll.stop.set()
    poll.join()
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    log = done.stdout + done.stderr
    jobs = planned(dry.stdout + dry.stderr)
    return {
        "name": name,
        "out": out,
        "node": node,
        "wall_s": wall,
        "jobs": len([j for j in jobs if j["rule"] != "all"]),
        "sbatch": len(re.findall(r"has been submitted with SLURM jobid", log)),
        "shared": shared_bytes(jobs, data, out, node),
        "shared_files": shared_files(jobs, data, out),
        "intermediates_in_output_tree": sorted(poll.seen),
        "node_peak_bytes": poll.peak,
        "benchmark_io_mb": benchmark_io(work),
    }


def cluster_runs(data: Path, root: Path, cluster) -> list[dict]:
    """The day with profiles/pcluster, then with profiles/pcluster-nodelocal (its split and
    high-pass files in root/node), one after the other on the test cluster."""
    node = root / "node"
    return [
        one_run("pcluster", data, root, "default", cluster),
        one_run(
            "pcluster-nodelocal",
            data,
            root,
            "nodelocal",
            cluster,
            config=(f"intermediates={{node_local_dir: {node}}}",),
        ),
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--channels", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--sessions", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--json", type=Path, help="write the numbers here")
    a = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="nodelocal-measure-"))
    data = generate(root, channels=a.channels, seconds=a.seconds, sessions=a.sessions)
    raw = tree_bytes(data)
    ns5 = sum(p.stat().st_size for p in data.rglob("*.ns5"))
    results = [one_run("local", data, root, "local")]
    cluster = localslurm.start(root / "slurm", log=lambda m: None)
    try:
        results += cluster_runs(data, root, cluster)
    finally:
        cluster.stop()
    ref = results[0]["out"]
    report = {"raw_bytes": raw, "ns5_bytes": ns5, "runs": []}
    for r in results:
        aliases = [r["node"]] if r["node"] else []
        r["differences_vs_local"] = (
            differences(ref, r["out"], aliases) if r is not results[0] else []
        )
        r["out"], r["node"] = str(r["out"]), str(r["node"])
        report["runs"].append(r)
        s = r["shared"]
        print(
            f"{r['name']:10s} wall {r['wall_s']:6.1f} s  jobs {r['jobs']:3d}  sbatch {r['sbatch']:3d}"
            f"  shared read {s['read'] / 1e6:8.2f} MB  written {s['written'] / 1e6:8.2f} MB"
            f"  total {(s['read'] + s['written']) / 1e6:8.2f} MB  (x raw .ns5 "
            f"{(s['read'] + s['written']) / ns5:5.2f})  node peak {r['node_peak_bytes'] / 1e6:7.2f} MB"
            f"  diffs {len(r['differences_vs_local'])}"
            f"  intermediates under out: {len(r['intermediates_in_output_tree'])}"
        )
    print(f"raw tree {raw / 1e6:.2f} MB, of it .ns5 {ns5 / 1e6:.2f} MB")
    if a.json:
        a.json.write_text(json.dumps(report, indent=1, default=str))
    if not a.keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
