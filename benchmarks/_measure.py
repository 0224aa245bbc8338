"""Run a measurement in a child process: wall time and that child's peak RSS."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / "work"


def measure(cmd: list[str] | str, env=None, cwd=None) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of a command; raises if it fails."""
    if isinstance(cmd, str):
        cmd = [sys.executable, "-c", cmd]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd or REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd!r} failed ({proc.returncode}):\n{err[-3000:]}")
    return wall, usage.ru_maxrss / 1024.0


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
