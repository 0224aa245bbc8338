"""Stand-in sorters for the time-limit tests, run in the sort's child process
(``hippoflow.sorting.runner``: ``f(cat, params, workdir, log) -> (times, labels)``)."""

import os
import time
from pathlib import Path


def sleepy(cat, params, workdir, log):
    """Hangs like MountainSort5's issue #66: writes its pid, then sleeps for a minute."""
    (Path(workdir) / "sleepy.pid").write_text(str(os.getpid()))
    time.sleep(60)
    raise AssertionError("the time limit should have killed this sorter")


def crashing(cat, params, workdir, log):
    print("Detected 12 spikes", flush=True)
    raise RuntimeError("isosplit exploded on purpose")


def killed(cat, params, workdir, log):
    """Killed by a signal, as the kernel's out-of-memory killer or a lost node would."""
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
