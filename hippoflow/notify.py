"""Completion notice: run a configurable shell command when the workflow ends.

The Snakefile's ``onsuccess``/``onerror`` handlers call :func:`notify` with the
``notify_command`` config key (default ``""``: nothing happens). In the command,
``{status}`` becomes ``success`` or ``error`` and ``{log}`` the path of
Snakemake's log file, both shell-quoted; the same values are also in the
environment as ``HIPPOFLOW_STATUS`` and ``HIPPOFLOW_LOG``. Example (AWS SNS, as
the lab's old "JobDone" message; the head node's instance role grants the
publish right, no keys needed)::

    notify_command: >-
      aws sns publish --topic-arn arn:aws:sns:eu-west-1:123456789012:hippoflow
      --subject "hippoflow {status}" --message "hippoflow finished: {status}, log {log}"

A failing notification never changes the workflow's result: it is reported on
stderr and its exit code returned.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Sequence

STATUSES = ("success", "error")


LogArg = str | os.PathLike | Sequence[str | os.PathLike] | None


def _log_paths(log: LogArg) -> list[str]:
    """Snakemake passes its log as a list of paths (Snakemake 9) or a single path."""
    if log is None:
        return []
    if isinstance(log, (str, os.PathLike)):
        return [str(log)]
    return [str(p) for p in log]


def render(command: str, status: str, log: LogArg) -> str:
    """The shell command with ``{status}`` and ``{log}`` replaced (quoted).

    Only these two placeholders are replaced, so other braces (JSON messages,
    shell ``${VAR}``) pass through untouched. Several log files become several
    quoted words.
    """
    logs = " ".join(shlex.quote(p) for p in _log_paths(log)) or "''"
    return command.replace("{status}", shlex.quote(status)).replace("{log}", logs)


def notify(
    command: str | None,
    status: str,
    log: LogArg = None,
    timeout: float = 120,
) -> int | None:
    """Run ``command`` for a finished workflow; None if no command is configured."""
    if status not in STATUSES:
        raise ValueError(f"notify: status must be one of {STATUSES}, not {status!r}")
    if not command or not str(command).strip():
        return None
    cmd = render(str(command), status, log)
    env = dict(os.environ, HIPPOFLOW_STATUS=status, HIPPOFLOW_LOG=" ".join(_log_paths(log)))
    try:
        done = subprocess.run(cmd, shell=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"hippoflow: notify_command timed out after {timeout:.0f} s: {cmd}", file=sys.stderr)
        return 124
    except OSError as exc:
        print(f"hippoflow: notify_command could not run ({exc}): {cmd}", file=sys.stderr)
        return 127
    if done.returncode != 0:
        print(f"hippoflow: notify_command exited with {done.returncode}: {cmd}", file=sys.stderr)
    return done.returncode
