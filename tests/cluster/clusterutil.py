"""Helpers for the cluster tests: demo trees, the snakemake command, Slurm job queries."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SNAKEMAKE = str(BIN / "snakemake")
#: the only profile settings the Slurm tests override: faster status checks on a tiny cluster
STATUS_OVERRIDES = ["--slurm-init-seconds-before-status-checks", "1"]


def generate(root: Path, *, channels=2, seconds=20, sessions=1, seed=7, extra=()) -> Path:
    """A small demo tree from the project's generator; returns data_root."""
    data = root / "data"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "hippoflow.synth",
            "--out",
            str(data),
            "--channels",
            str(channels),
            "--seconds",
            str(seconds),
            "--sessions",
            str(sessions),
            "--seed",
            str(seed),
            *extra,
        ],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    return data


def cut_last_marker(nev: Path) -> None:
    """Cut a .nev inside its last digital-event (marker) packet, dropping whatever follows it
    (Ripple-style files end with a comment packet): rplparallel must then reject the file."""
    import struct

    raw = nev.read_bytes()
    headers, size = struct.unpack_from("<II", raw, 12)
    starts = range(headers, len(raw) - size + 1, size)
    last = max(i for i in starts if struct.unpack_from("<H", raw, i + 4)[0] == 0)
    nev.write_bytes(raw[: last + size - 7])


def snakemake_cmd(
    profile: str,
    data: Path,
    out: Path,
    *extra: str,
    config: tuple[str, ...] = (),
    targets: tuple[str, ...] | list[str] = (),
) -> list[str]:
    """The real `snakemake --profile profiles/<profile>` command for a tree in a temp dir.

    The working directory (logs, .snakemake) is the caller's cwd; the Snakefile and config
    come from the repository.
    """
    return [
        SNAKEMAKE,
        *map(str, targets),
        "--snakefile",
        str(REPO / "Snakefile"),
        "--configfile",
        str(REPO / "config" / "config.yaml"),
        "--profile",
        str(REPO / "profiles" / profile),
        *extra,
        "--config",
        f"data_root={data}",
        f"output_root={out}",
        *config,
    ]


def run(cmd, cwd: Path, env=None, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def digests(root: Path) -> dict[str, str]:
    """sha256 of every file under root, keyed by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def squeue_jobs(cluster, run_text: str | None = None) -> dict[str, dict]:
    """Jobs Slurm still remembers (MinJobAge 300 s): id -> state, name, partition, mem."""
    out = cluster.run("squeue", "--states=all", "-h", "-o", "%i|%T|%j|%P|%m")
    jobs = {}
    for line in out.splitlines():
        jid, state, name, part, mem = line.split("|")
        jobs[jid] = {"state": state, "name": name, "partition": part, "mem": mem}
    return jobs


SUBMIT_RE = re.compile(r"Job (\S+) has been submitted with SLURM jobid (\d+)")
RUN_ID_RE = re.compile(r"SLURM run ID: (\S+)")


def submissions(log_text: str) -> list[str]:
    """Slurm job ids the plugin reported, in submission order."""
    return [m.group(2) for m in SUBMIT_RE.finditer(log_text)]


def run_id(log_text: str) -> str:
    m = RUN_ID_RE.search(log_text)
    assert m, "no 'SLURM run ID' in the snakemake log"
    return m.group(1)


JOB_START_RE = re.compile(
    r"^(?:local)?rule (\w+):\n(?:^    .*\n)*?^    jobid: (\d+)\n(?:^    .*\n)*?^    resources: .*?"
    r"\bmem_mb=(\d+)",
    re.MULTILINE,
)
JOB_END_RE = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)", re.MULTILINE)
PROVIDED_CORES_RE = re.compile(r"^Provided cores: (\d+)", re.MULTILINE)
PROVIDED_MEM_RE = re.compile(r'^Provided resources: .*mem_mb=Resource\("mem_mb", (\d+)\)', re.M)


def side_by_side(log_text: str) -> dict:
    """From a Snakemake log (a day job's: its inner Snakemake's), in the order the log says
    things: each job's start (rule block with jobid and mem_mb) and end (Finished jobid), the
    most jobs running at once and the most mem_mb they asked for together."""
    events = [(m.start(), 1, m.group(2), int(m.group(3))) for m in JOB_START_RE.finditer(log_text)]
    events += [(m.start(), -1, m.group(1), 0) for m in JOB_END_RE.finditer(log_text)]
    running: dict[str, int] = {}
    most = most_mem = 0
    for _, kind, jobid, mem in sorted(events):
        if kind == 1:
            running[jobid] = mem
        else:
            running.pop(jobid, None)
        most = max(most, len(running))
        most_mem = max(most_mem, sum(running.values()))
    return {
        "jobs": len(JOB_START_RE.findall(log_text)),
        "most_at_once": most,
        "most_mem_mb_at_once": most_mem,
        "cores": [int(c) for c in PROVIDED_CORES_RE.findall(log_text)],
        "mem_mb_limits": [int(c) for c in PROVIDED_MEM_RE.findall(log_text)],
    }
