"""Run a measurement in a child process: wall time and that child's peak RSS."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / "work"
RATES = (
    WORK / "rates.json"
)  # measured rates; the estimator reads config/rates.yaml (copied by hand)


# A small launcher process starts the command and reports its peak RSS: measuring the child
# directly would count the (possibly large) benchmark process it was forked from.
_LAUNCHER = """
import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(rc)
"""


def measure(cmd: list[str] | str, env=None, cwd=None, stdout=None) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of a command; raises if it fails. ``stdout``: a file
    path to keep the command's output in (else it is thrown away)."""
    if isinstance(cmd, str):
        cmd = [sys.executable, "-c", cmd]
    with open(stdout or "/dev/null", "w") as sink:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, *cmd],
            env=env,
            cwd=cwd or REPO,
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
        )
        wall = time.perf_counter() - t0
    lines = proc.stderr.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{cmd!r} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, int(lines[-1]) / 1024.0


def load_rates() -> dict:
    """benchmarks/work/rates.json, the rates measured so far ({} before the first bench)."""
    return json.loads(RATES.read_text()) if RATES.exists() else {}


def merge_rates(values: dict) -> None:
    """Write ``values`` into benchmarks/work/rates.json, keeping the keys other benchmarks
    wrote (config/rates.yaml, which the estimator reads, is updated by hand from it)."""
    RATES.parent.mkdir(parents=True, exist_ok=True)
    RATES.write_text(json.dumps({**load_rates(), **values}, indent=1) + "\n")


def row(name, value, unit, baseline=None, ratio=None, target=None, ok=None, **extra) -> dict:
    r = {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "baseline": baseline,
        "ratio": None if ratio is None else round(ratio, 3),
        "target": target,
        "ok": ok,
    }
    r.update(extra)
    return r
