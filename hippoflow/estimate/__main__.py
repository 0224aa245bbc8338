"""python -m hippoflow.estimate: predict a run from the raw tree's headers (see --help)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from hippoflow.errors import InputError
from hippoflow.estimate import MODES, PRICES, RATES, REPO, estimate
from hippoflow.estimate.dag import DagError

EPILOG = """\
Reads only the .ns5/.nev headers (recording lengths from the data-block headers), the
workflow's own DAG of the run (snakemake --dag: jobs per rule and day), the profile's job
groups and cores, the cluster file's queues and storage, config/prices.yaml (dated
instance prices and figures: edit it) and config/rates.yaml (per-job rates, dated, as
`make bench` measured them). Wall time = max(CPU work / compute cores, bytes through shared storage /
its sustained throughput, the longest single Slurm job); dollars = each queue's nodes for
the time its jobs run or wait on storage + the head node + the shared storage for the wall
time (GB-month prices / 730 h).

examples:
  python -m hippoflow.estimate --data-root /data/raw
  python -m hippoflow.estimate --data-root /data/raw --mode nodelocal \\
      --profile profiles/pcluster-nodelocal
  python -m hippoflow.estimate --data-root plan-tree --assume-seconds 4500 --json
"""


def _seconds(text: str) -> float:
    """--assume-seconds: a finite length > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text}: a recording length is a number of seconds > 0")
    return value


def _tb(b: float) -> str:
    return f"{b / 1e12:.3f} TB" if b >= 1e11 else f"{b / 1e9:.2f} GB"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m hippoflow.estimate",
        description="Jobs, Slurm submissions, core-hours, bytes through shared storage, "
        "storage needed, wall time and dollars of a run, per day and in total.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data-root", required=True, help="raw tree <subject>/<day>/<session>/")
    p.add_argument(
        "--profile",
        default=str(REPO / "profiles" / "pcluster"),
        help="Snakemake profile (its groups)",
    )
    p.add_argument(
        "--cluster-file",
        default=str(REPO / "profiles" / "pcluster" / "cluster-config.yaml"),
        help="ParallelCluster file (queues, head node, shared storage)",
    )
    p.add_argument(
        "--mode", choices=MODES, default="default", help="where split/high-pass files live"
    )
    p.add_argument(
        "--configfile",
        default=str(REPO / "config" / "config.yaml"),
        help="the workflow's config file (its nwb, report, split_compression, channels ... "
        "keys; --data-root replaces its data_root)",
    )
    p.add_argument(
        "--node-local-dir",
        metavar="DIR",
        help="intermediates.node_local_dir of the run (what its --config 'intermediates="
        "{node_local_dir: DIR}' sets; the node-local profile needs it, as the workflow does)",
    )
    p.add_argument("--prices", default=str(PRICES), help="instance/storage price table (YAML)")
    p.add_argument(
        "--rates", default=str(RATES), help="per-job rates (YAML or JSON, config/rates.yaml)"
    )
    p.add_argument(
        "--assume-seconds",
        type=_seconds,
        help="recording length per session instead of the headers' (seconds, > 0)",
    )
    p.add_argument("--json", action="store_true", help="print the whole result as JSON")
    a = p.parse_args(argv)
    try:
        config = yaml.safe_load(Path(a.configfile).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        p.error(f"--configfile {a.configfile}: {exc}")
    if not isinstance(config, dict):
        p.error(f"--configfile {a.configfile}: not a mapping of config keys")
    if a.node_local_dir:
        section = config.get("intermediates") or {}
        config["intermediates"] = {**section, "node_local_dir": a.node_local_dir}
    try:
        r = estimate(
            a.data_root,
            a.profile,
            a.mode,
            a.cluster_file,
            a.prices,
            a.rates,
            a.assume_seconds,
            config=config,
        )
    except InputError as exc:  # a missing path, a config the workflow would refuse
        print(f"hippoflow.estimate: {exc}", file=sys.stderr)
        return 2
    except DagError as exc:  # the workflow could not plan this tree: its own message
        print(f"python -m hippoflow.estimate: {exc}", file=sys.stderr)
        return 1
    if a.json:
        json.dump(r, sys.stdout, indent=1)
        print()
        return 0
    print(f"mode {r['mode']}, cluster {r['cluster_file']}, prices of {r['prices_date']}")
    print(f"{'day':<28}{'jobs':>7}{'sbatch':>8}{'core-h':>9}{'shared':>12}{'storage':>12}")
    for day, d in r["days"].items():
        print(
            f"{day:<28}{d['jobs']:>7}{d['submissions']:>8}{d['core_s'] / 3600:>9.2f}"
            f"{_tb(d['shared_bytes']):>12}{_tb(d['storage_bytes']):>12}"
        )
    t = r["total"]
    print(
        f"{'total':<28}{t['jobs']:>7.0f}{t['submissions']:>8}{t['core_hours']:>9.2f}"
        f"{_tb(t['shared_bytes']):>12}{_tb(t['storage_bytes']):>12}"
    )
    print(
        f"shared storage: {t['shared_storage']} ({t['shared_throughput_bps'] / 1e6:.0f} MB/s); "
        f"{t['compute_cores']} compute cores"
    )
    print(
        f"wall {t['wall_s'] / 3600:.2f} h ({t['bound']}-bound: CPU {t['cpu_wall_s'] / 3600:.2f} h, "
        f"storage {t['io_wall_s'] / 3600:.2f} h, longest job {t['longest_submission_s'] / 3600:.2f}"
        f" h); {t['node_hours']:.1f} node-hours; "
        f"${t['usd_on_demand']:.2f} on-demand, ${t['usd_spot']:.2f} spot "
        f"(nodes ${t['usd_nodes']:.2f}, head ${t['usd_head']:.2f}, storage ${t['usd_storage']:.2f})"
    )
    # what the workflow's planning says (the run fails a job per problem; warnings are gaps)
    print(f"planning problems (each fails a job input_problem): {len(r['problems'])}")
    for msg in r["problems"]:
        print(f"  {msg}")
    print(f"warnings: {len(r['warnings'])}")
    for w in r["warnings"]:
        print(f"  {w}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
