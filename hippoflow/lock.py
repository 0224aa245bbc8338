"""One run at a time per output tree: a lock file in the output root.

Snakemake's own lock (``.snakemake/locks``) guards a working directory; two runs from
different working directories writing one ``output_root`` would otherwise race (each
deleting the other's temporary and incomplete files). The workflow takes this lock when its
jobs start (``onstart``, the main process only: not in dry runs, cluster jobs or
``--unlock``) and releases it in ``onsuccess``/``onerror`` and at interpreter exit.

The lock file holds the host, process id, working directory and start time of its run, and
the process's own start (boot id and start tick from ``/proc``, on Linux). A lock held by a
live process is refused, whichever its working directory (for the same working directory
Snakemake's lock normally refuses first); a lock left by a dead process of the same host (a
killed run), or whose pid now belongs to a process started later (the pid was reused), is
taken over with a warning; a lock from another host cannot be checked and is refused, naming
the file to delete once that run is over.  A lock file that is not one (damaged, a pid that
is not a number) is refused with the same way forward; a refusal names the program that now
holds the pid, so a lock whose pid an unrelated program took can be told and deleted.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import json
import os
import socket
from pathlib import Path

LOCK_NAME = ".hippoflow-lock"


class LockRefused(Exception):
    """Another run holds the output tree's lock."""


def lock_path(output_root) -> Path:
    return Path(output_root) / LOCK_NAME


def _proc_start(pid: int) -> str | None:
    """Boot id and start tick of a process (Linux ``/proc``), or None where unknown."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
        return f"{boot}:{stat.rsplit(')', 1)[1].split()[19]}"
    except (OSError, IndexError):
        return None


def _program(pid: int) -> str:
    """The command line of a process, shortened, or '?'."""
    try:
        cmd = (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return "?"
    cmd = cmd.strip() or "?"
    return cmd if len(cmd) <= 80 else cmd[:77] + "..."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def _describe(holder: dict) -> str:
    return (
        f"pid {holder.get('pid')} on {holder.get('host')}, working directory "
        f"{holder.get('workdir')}, started {holder.get('started')}"
    )


def _mine(holder: dict) -> bool:
    return holder.get("host") == socket.gethostname() and holder.get("pid") == os.getpid()


def _read(path: Path) -> dict | None:
    try:
        holder = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def acquire(output_root, workdir=None) -> str | None:
    """Take the lock of ``output_root`` for this process; returns a warning when a stale
    lock was taken over, raises :class:`LockRefused` when another run holds it."""
    path = lock_path(output_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    me = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "workdir": str(Path(workdir or os.getcwd()).resolve()),
        "started": _dt.datetime.now().isoformat(timespec="seconds"),
        "pid_start": _proc_start(os.getpid()),
    }
    text = json.dumps(me, indent=1) + "\n"
    warning = None
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        holder = _read(path)
        if holder is not None and _mine(holder):
            return None
        if holder is None:
            raise LockRefused(
                f"hippoflow: {path} exists but cannot be read: another run may be starting "
                f"on {Path(output_root)}; if none is running, delete {path} and run again"
            ) from None
        pid = holder.get("pid")
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            raise LockRefused(
                f"hippoflow: {path} is damaged (its pid is {pid!r}, not a process id): "
                f"another run may be writing {Path(output_root)}; if none is, delete {path} "
                "and run again"
            ) from None
        same_host = holder.get("host") == me["host"]
        alive = same_host and _alive(pid)
        reused = alive and holder.get("pid_start") not in (None, _proc_start(pid))
        if not same_host or (alive and not reused):
            where = "this" if holder.get("workdir") == me["workdir"] else "another"
            if same_host:
                hint = (
                    f". Wait for it to end; if that run is over and pid {pid} is now another "
                    f"program ({_program(pid)}), delete {path} and run again"
                )
            else:
                hint = f". Wait for it to end, or delete {path} if that run on {holder.get('host')} is over"
            raise LockRefused(
                f"hippoflow: output_root {Path(output_root)} is being written by another run "
                f"from {where} working directory ({_describe(holder)}): two runs on one "
                "output tree would delete each other's temporary files" + hint
            ) from None
        if reused:
            warning = (
                f"{path}: lock of a run that is no longer running ({_describe(holder)}; pid "
                f"{pid} now belongs to a process started later: {_program(pid)}) taken over; "
                "that run ended without releasing it (killed?)"
            )
        else:
            warning = (
                f"{path}: lock of a run that is no longer running ({_describe(holder)}) taken "
                "over; that run ended without releasing it (killed?)"
            )
        tmp = path.with_name(f"{LOCK_NAME}.{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    else:
        with os.fdopen(fd, "w") as f:
            f.write(text)
    atexit.register(release, output_root)
    return warning


def release(output_root) -> bool:
    """Remove the lock if this process holds it; True when removed."""
    path = lock_path(output_root)
    holder = _read(path)
    if holder is None or not _mine(holder):
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
