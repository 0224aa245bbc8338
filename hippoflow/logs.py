"""Per-job logging for the workflow scripts: timestamps, progress percentages, peak memory."""

from __future__ import annotations

import logging
import os
import resource
import sys
import time


def setup(log_path=None, name: str = "hippoflow") -> logging.Logger:
    """Log to the job's log file (and stderr) with timestamps."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        handlers=handlers,
        force=True,
    )
    logging.captureWarnings(True)
    return logging.getLogger(name)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Progress:
    """Log 'label: NN%' at most every ``step`` percent."""

    def __init__(self, log: logging.Logger, label: str, step: float = 10.0):
        self.log, self.label, self.step = log, label, step
        self.next = step
        self.t0 = time.monotonic()

    def __call__(self, fraction: float) -> None:
        pct = 100.0 * fraction
        if pct + 1e-9 >= self.next:
            self.log.info("%s: %3.0f%% (%.1f s)", self.label, pct, time.monotonic() - self.t0)
            while self.next <= pct + 1e-9:
                self.next += self.step


def _listing(paths, most: int = 5) -> str:
    """The first few of a job's input files (and how many more) for an error message."""
    paths = [str(p) for p in paths]
    more = f" and {len(paths) - most} more" if len(paths) > most else ""
    return (", ".join(paths[:most]) or "none") + more


def run_job(main, snakemake) -> None:
    """Run a script's ``main(snakemake, log)``.

    Bad input (:class:`~hippoflow.errors.InputError`) ends the job with a one-line error; any
    other exception is written to the job's log with its traceback (so ``--show-failed-logs``
    shows it) and re-raised, so the job fails as before.
    """
    from hippoflow.errors import InputError

    log = setup(snakemake.log[0] if snakemake.log else None)
    if os.environ.get("SLURM_JOB_ID"):
        log.info(
            "Slurm job %s on %s", os.environ["SLURM_JOB_ID"], os.environ.get("SLURMD_NODENAME", "?")
        )
    t0 = time.monotonic()
    try:
        main(snakemake, log)
    except InputError as exc:
        log.error("bad input: %s", exc)
        raise SystemExit(f"hippoflow: bad input: {exc}") from None
    except Exception as exc:  # SystemExit (a step's own one-line ending) passes through
        log.exception(
            "unexpected error (%s) after %.1f s, peak RSS %.0f MB; inputs: %s; traceback:",
            type(exc).__name__,
            time.monotonic() - t0,
            peak_rss_mb(),
            _listing(getattr(snakemake, "input", [])),
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        raise
    log.info("done in %.1f s, peak RSS %.0f MB", time.monotonic() - t0, peak_rss_mb())
