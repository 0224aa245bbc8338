"""The sorter in a child process, killed at a time limit.

MountainSort5 0.5.x can run forever on some single-channel inputs (its issue #66: scheme 2,
100 % CPU, no output); on a cluster that is a Slurm job sitting until its own time limit.  The
sort therefore runs in a child Python process (``python -m hippoflow.sorting.runner spec.json``)
that the job waits for at most ``time_limit_s`` seconds and then kills (SIGKILL).  The child
stays in the job's process group, so a job cancelled by Slurm or Snakemake takes it along.

Input: the day-channel's concatenation (:class:`hippoflow.sorting.concat.Concatenation`), the
sorter's parameters, a work directory, the limit and a label naming the day-channel.  Output:
(spike sample indices, unit labels) sorted by time, and the sorter's wall time (s).  A sorter
that exceeds the limit, crashes or is killed raises :class:`SorterError`, whose message names
the day-channel, what happened and the end of the sorter's own output.

The sorter is a function ``"module:function"`` called in the child as ``f(cat, params,
workdir, log)`` returning (times, labels); the default is MountainSort5
(:func:`hippoflow.sorting.sort.run_mountainsort5`).  The child runs with the job's thread count
(OMP/BLAS/numba variables) and the parent's ``sys.path``.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

DEFAULT_SORTER = "hippoflow.sorting.sort:run_mountainsort5"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
TAIL_LINES = 8


class SorterError(RuntimeError):
    """The sorter ran past its time limit, crashed or was killed (message names the input).

    ``on_data``: the sorting failed on this data (it ran past its limit, or the sorter ended
    with an error of its own); False when it was killed by a signal (out of memory, a lost
    node, by hand), which says nothing about the data."""

    def __init__(self, message: str, on_data: bool = True):
        super().__init__(message)
        self.on_data = on_data


ERROR_MARK = "hippoflow-sorter error: "


def _tail(path: Path, n: int = TAIL_LINES) -> str:
    """The sorter's last lines of output before any traceback, joined with ' | '."""
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    if "Traceback (most recent call last):" in lines:
        lines = lines[: len(lines) - 1 - lines[::-1].index("Traceback (most recent call last):")]
    lines = [ln for ln in lines if ln.strip() and not ln.startswith(ERROR_MARK)]
    return " | ".join(ln.strip() for ln in lines[-n:])


def _error(path: Path) -> str:
    """The exception the child reported (its last ERROR_MARK line), or ''."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    marked = [ln[len(ERROR_MARK) :] for ln in lines if ln.startswith(ERROR_MARK)]
    return marked[-1].strip() if marked else ""


def run_sorter(
    cat,
    params: dict,
    workdir,
    time_limit_s: float,
    label: str,
    log=None,
    sorter: str = DEFAULT_SORTER,
    threads: int = 1,
    poll_s: float = 0.05,
):
    """Run ``sorter`` on ``cat`` in a child process; kill it after ``time_limit_s`` seconds."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    spec = {
        "sorter": sorter,
        "params": params,
        "workdir": str(workdir),
        "out": str(workdir / "sorter-result.npz"),
        "cat": {
            "path": str(cat.path),
            "sessions": list(cat.sessions),
            "inputs": list(cat.inputs),
            "starts": [int(v) for v in cat.starts],
            "lengths": [int(v) for v in cat.lengths],
            "sampling_rate": float(cat.sampling_rate),
            "noise_uv": float(cat.noise_uv),
        },
    }
    spec_path = workdir / "sorter-spec.json"
    spec_path.write_text(json.dumps(spec))
    out_path = workdir / "sorter-output.txt"
    env = dict(os.environ, **{k: str(int(threads)) for k in THREAD_VARS})
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    t0 = time.monotonic()
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hippoflow.sorting.runner", str(spec_path)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        try:
            while proc.poll() is None:
                if time.monotonic() - t0 >= time_limit_s:
                    proc.kill()
                    proc.wait()
                    raise SorterError(
                        f"{label}: {_name(sorter)} did not finish within its time limit of "
                        f"{time_limit_s:.0f} s (sorting.time_limit_factor x the data's length + "
                        f"time_limit_min_s) and was killed after {time.monotonic() - t0:.1f} s; "
                        f"its last output: {_tail(out_path) or '(none)'}"
                    )
                time.sleep(poll_s)
        finally:
            if proc.poll() is None:  # interrupted (e.g. KeyboardInterrupt): leave no sorter
                proc.kill()
                proc.wait()
    wall = time.monotonic() - t0
    chatter = out_path.read_text(errors="replace")
    if proc.returncode != 0:
        how = (
            f"was killed by signal {-proc.returncode}"
            if proc.returncode < 0
            else f"failed (exit code {proc.returncode})"
        )
        err = _error(out_path)
        raise SorterError(
            f"{label}: {_name(sorter)} {how} after {wall:.1f} s{': ' + err if err else ''}; "
            f"its last output: {_tail(out_path) or '(none)'}",
            on_data=proc.returncode > 0,
        )
    if log:
        for line in chatter.splitlines():
            if line.startswith(("Detected", "Found", "Scheme", "hippoflow-sorter")):
                log.info("%s: %s", _name(sorter), line.strip())
        log.info("%s in a child process: %.1f s (limit %.0f s)", _name(sorter), wall, time_limit_s)
    with np.load(spec["out"]) as r:
        times, labels = r["times"].astype(np.int64), r["labels"].astype(np.int64)
    for p in (spec_path, out_path, Path(spec["out"])):
        p.unlink(missing_ok=True)
    return times, labels, wall


def _name(sorter: str) -> str:
    return "MountainSort5" if sorter == DEFAULT_SORTER else sorter


def _load(sorter: str):
    module, _, func = sorter.partition(":")
    return getattr(importlib.import_module(module), func)


def main(argv=None) -> int:
    """Child side: read the spec, run the sorter, save (times, labels)."""
    from hippoflow.sorting.concat import Concatenation

    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(argv[0]).read_text())
    c = spec["cat"]
    cat = Concatenation(
        Path(c["path"]),
        c["sessions"],
        c["inputs"],
        np.array(c["starts"], dtype=np.int64),
        np.array(c["lengths"], dtype=np.int64),
        c["sampling_rate"],
        c["noise_uv"],
    )
    logging.basicConfig(level=logging.INFO, format="hippoflow-sorter %(message)s", force=True)
    try:
        times, labels = _load(spec["sorter"])(
            cat, spec["params"], Path(spec["workdir"]), logging.getLogger("hippoflow-sorter")
        )
    except Exception as exc:
        traceback.print_exc()
        print(f"{ERROR_MARK}{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    tmp = Path(spec["out"]).with_suffix(".part.npz")
    np.savez(tmp, times=np.asarray(times, np.int64), labels=np.asarray(labels, np.int64))
    os.replace(tmp, spec["out"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
