"""The output tree's lock (hippoflow.lock) when it is damaged or its pid was reused, with
real processes; every message is stated here."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from hippoflow import lock


def _holder(pid, **extra):
    return {
        "host": socket.gethostname(),
        "pid": pid,
        "workdir": "/elsewhere",
        "started": "2018-11-05T10:00:00",
    } | extra


@pytest.fixture
def unrelated():
    """A live process that is not a hippoflow run (its start read from /proc by hand)."""
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as p:
        time.sleep(0.2)
        try:
            yield p
        finally:
            p.kill()


def _start_tick(pid) -> str:
    """Field 22 (starttime) of /proc/<pid>/stat, as proc(5) documents it."""
    stat = open(f"/proc/{pid}/stat").read()
    return stat[stat.rindex(")") + 2 :].split(" ")[22 - 3]


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="Linux /proc")
def test_the_lock_records_its_process_start(tmp_path):
    out = tmp_path / "out"
    lock.acquire(out, tmp_path)
    held = json.loads((out / lock.LOCK_NAME).read_text())
    boot = open("/proc/sys/kernel/random/boot_id").read().strip()
    assert held["pid_start"] == f"{boot}:{_start_tick(os.getpid())}"
    assert lock.release(out)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="Linux /proc")
def test_a_pid_now_owned_by_a_later_process_is_stale(tmp_path, unrelated):
    out = tmp_path / "out"
    out.mkdir()
    boot = open("/proc/sys/kernel/random/boot_id").read().strip()
    earlier = int(_start_tick(unrelated.pid)) - 1000  # the run's process started earlier
    holder = _holder(unrelated.pid, pid_start=f"{boot}:{earlier}")
    (out / lock.LOCK_NAME).write_text(json.dumps(holder))
    warning = lock.acquire(out, tmp_path)
    assert warning == (
        f"{out / lock.LOCK_NAME}: lock of a run that is no longer running (pid {unrelated.pid} "
        f"on {socket.gethostname()}, working directory /elsewhere, started "
        f"2018-11-05T10:00:00; pid {unrelated.pid} now belongs to a process started later: "
        f"{sys.executable} -c import time; time.sleep(30)) taken over; that run ended "
        "without releasing it (killed?)"
    )
    assert json.loads((out / lock.LOCK_NAME).read_text())["pid"] == os.getpid()
    assert unrelated.poll() is None, "the unrelated process is left alone"
    assert lock.release(out)


def test_a_live_pid_without_a_recorded_start_names_the_program_and_the_way_out(tmp_path, unrelated):
    out = tmp_path / "out"
    out.mkdir()
    (out / lock.LOCK_NAME).write_text(json.dumps(_holder(unrelated.pid)))
    with pytest.raises(lock.LockRefused) as exc:
        lock.acquire(out, tmp_path)
    assert str(exc.value).endswith(
        f"Wait for it to end; if that run is over and pid {unrelated.pid} is now another "
        f"program ({sys.executable} -c import time; time.sleep(30)), delete "
        f"{out / lock.LOCK_NAME} and run again"
    )


@pytest.mark.parametrize("pid", ["12345", "abc", None, True, -3, 0, 1.5, [1]])
def test_a_pid_that_is_not_a_process_id(tmp_path, pid):
    out = tmp_path / "out"
    out.mkdir()
    text = json.dumps(_holder(pid))
    (out / lock.LOCK_NAME).write_text(text)
    with pytest.raises(lock.LockRefused) as exc:
        lock.acquire(out, tmp_path)
    assert str(exc.value) == (
        f"hippoflow: {out / lock.LOCK_NAME} is damaged (its pid is {pid!r}, not a process "
        f"id): another run may be writing {out}; if none is, delete {out / lock.LOCK_NAME} "
        "and run again"
    )
    assert (out / lock.LOCK_NAME).read_text() == text, "left as it was"


@pytest.mark.parametrize("text", ["", "{", "[1, 2]", "\x00\x01binary"])
def test_a_lock_that_is_not_json(tmp_path, text):
    out = tmp_path / "out"
    out.mkdir()
    (out / lock.LOCK_NAME).write_text(text)
    with pytest.raises(lock.LockRefused, match="exists but cannot be read: .* delete"):
        lock.acquire(out, tmp_path)
