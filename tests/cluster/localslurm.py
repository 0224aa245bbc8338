"""A throw-away one-node Slurm cluster on localhost, for tests and benchmarks.

The cluster mimics AWS ParallelCluster where it matters for the workflow:
accounting is off (no slurmdbd, so ``sacct`` cannot answer), ``MinJobAge`` is
300 s, memory is a consumable resource, and the two queues of
``profiles/pcluster/cluster-config.yaml`` exist as partitions with the same
names (``light`` and ``sort``), so the pcluster profile runs unmodified.

Everything lives in a temporary directory: ``slurm.conf`` is found through
``SLURM_CONF`` (``/etc/slurm/slurm.conf`` is never written, so ``scontrol``
keeps failing fast for other users of this machine once the daemons are
stopped). Daemons are started in the foreground as child processes and
stopped by PID; a ``munged`` that was already running is reused and left alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ["slurmctld", "slurmd", "slurm-client", "munge"]
BINARIES = ["slurmctld", "slurmd", "sbatch", "srun", "squeue", "sinfo", "scontrol", "munged"]
MUNGE_SOCKET = Path("/run/munge/munge.socket.2")
#: Partition names; they match the queue names of profiles/pcluster/cluster-config.yaml.
PARTITIONS = ("light", "sort")
NODE_CPUS = 8
NODE_MEMORY_MB = 16000


class SlurmUnavailable(RuntimeError):
    """The machine cannot run a local Slurm cluster (reason in the message)."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def why_unavailable() -> str | None:
    """Why a local cluster cannot be started here, or None if it can."""
    if os.name != "posix" or os.geteuid() != 0:
        return (
            "not running as root: installing Slurm and starting slurmctld/slurmd/munged needs root"
        )
    if not Path("/etc/debian_version").exists():
        return "not a Debian system: the cluster fixture installs Debian's slurm and munge packages"
    return None


def ensure_packages(log=print) -> None:
    """Install Debian's Slurm and munge (no recommends) if any binary is missing."""
    missing = [b for b in BINARIES if not _which(b)]
    if not missing:
        return
    log(f"installing {' '.join(PACKAGES)} (missing: {', '.join(missing)})")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES],
        check=True,
        env=env,
        capture_output=True,
    )
    still = [b for b in BINARIES if not _which(b)]
    if still:
        raise SlurmUnavailable(f"after apt-get install, still missing: {', '.join(still)}")


def _which(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for d in ("/usr/sbin", "/usr/bin", "/sbin") if (p := Path(d) / name).exists()),
        None,
    )


def _free_port_pair() -> int:
    """A port p such that p and p+1 are free on localhost."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port > 65000:
            continue
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise SlurmUnavailable("no free pair of TCP ports for slurmctld/slurmd")


@dataclass
class LocalSlurm:
    """Handle on a running local cluster; ``env`` is what clients need."""

    root: Path
    conf: Path
    cpus: int
    real_memory_mb: int
    procs: dict = field(default_factory=dict)  # name -> Popen we started

    @property
    def env(self) -> dict:
        env = dict(os.environ, SLURM_CONF=str(self.conf))
        # snakemake-executor-plugin-slurm-jobstep 0.6.1 removes every SLURM_* variable except
        # the job identity (SLURM_CONF included) before its nested `srun`. A real cluster keeps
        # slurm.conf at the compiled-in path (ParallelCluster: /opt/slurm/etc/slurm.conf) so
        # that does not matter there; here slurm.conf lives in a temp dir, so `srun` is a shim
        # that restores SLURM_CONF (rather than writing /etc/slurm/slurm.conf for the machine).
        env["PATH"] = f"{self.root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        # Stale Slurm variables from a surrounding job would confuse the plugin.
        for key in list(env):
            if key.startswith("SLURM_") and key != "SLURM_CONF":
                del env[key]
        return env

    def run(self, *args: str, check: bool = True, timeout: float = 30) -> str:
        out = subprocess.run(
            list(args), env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and out.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({out.returncode}): {out.stderr.strip()}")
        return out.stdout

    def log_tail(self, n: int = 40) -> str:
        parts = []
        for name in ("slurmctld.log", "slurmd.log"):
            p = self.root / name
            if p.exists():
                lines = p.read_text(errors="replace").splitlines()[-n:]
                parts.append(f"--- {name}\n" + "\n".join(lines))
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop the daemons this handle started, by PID, newest first."""
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        self.procs.clear()


def _munge_works() -> bool:
    munge, unmunge = _which("munge"), _which("unmunge")
    if not (munge and unmunge):
        return False
    try:
        cred = subprocess.run([munge, "-n"], capture_output=True, timeout=5)
        if cred.returncode != 0:
            return False
        dec = subprocess.run([unmunge], input=cred.stdout, capture_output=True, timeout=5)
        return dec.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def write_conf(root: Path, port: int, cpus: int, mem_mb: int) -> Path:
    (root / "state").mkdir(parents=True, exist_ok=True)
    (root / "spool").mkdir(parents=True, exist_ok=True)
    conf = root / "slurm.conf"
    partitions = "\n".join(
        f"PartitionName={name} Nodes=localhost Default={'YES' if i == 0 else 'NO'} "
        "MaxTime=INFINITE State=UP"
        for i, name in enumerate(PARTITIONS)
    )
    conf.write_text(
        f"""\
# one-node test cluster, accounting off (as AWS ParallelCluster ships)
ClusterName=hippoflowci
SlurmctldHost=localhost
SlurmctldPort={port}
SlurmdPort={port + 1}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
MinJobAge=300
SlurmdParameters=config_overrides
ReturnToService=2
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
# memory enforcement without cgroups: poll RSS every second, kill steps over --mem
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN
{partitions}
"""
    )
    return conf


def start(root: Path, timeout: float = 60, log=print) -> LocalSlurm:
    """Install (if needed) and start munged, slurmctld and slurmd; wait until idle."""
    reason = why_unavailable()
    if reason:
        raise SlurmUnavailable(reason)
    ensure_packages(log=log)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    # The node is declared like the light queue's c6i.2xlarge (8 vCPU, 16 GB) whatever this
    # machine has (SlurmdParameters=config_overrides), so the pcluster profile's per-job
    # limits (cores 8, mem_mb 14000) fit unchanged. Test jobs are tiny; memory is still
    # enforced per job against its --mem request (OverMemoryKill).
    cpus, mem = NODE_CPUS, NODE_MEMORY_MB
    conf = write_conf(root, _free_port_pair(), cpus, mem)
    shim = root / "bin" / "srun"
    shim.parent.mkdir(exist_ok=True)
    shim.write_text(f'#!/bin/sh\nSLURM_CONF={conf} exec {_which("srun")} "$@"\n')
    shim.chmod(0o755)
    cluster = LocalSlurm(root=root, conf=conf, cpus=cpus, real_memory_mb=mem)
    try:
        if not _munge_works():
            run_dir = MUNGE_SOCKET.parent
            run_dir.mkdir(parents=True, exist_ok=True)
            shutil.chown(run_dir, "munge", "munge")
            key = Path("/etc/munge/munge.key")
            if not key.exists():
                subprocess.run([_which("mungekey") or "mungekey", "-c"], check=True)
                shutil.chown(key, "munge", "munge")
            cluster.procs["munged"] = subprocess.Popen(
                [_which("munged"), "-F", "--force"],
                user="munge",
                group="munge",
                stdout=subprocess.DEVNULL,
                stderr=open(root / "munged.err", "w"),
            )
            _wait(lambda: _munge_works(), 15, "munged did not answer", cluster)
        env = cluster.env
        cluster.procs["slurmctld"] = subprocess.Popen(
            [_which("slurmctld"), "-D", "-i", "-f", str(conf)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(root / "slurmctld.err", "w"),
        )
        cluster.procs["slurmd"] = subprocess.Popen(
            [_which("slurmd"), "-D", "-N", "localhost", "-f", str(conf)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(root / "slurmd.err", "w"),
        )

        def idle() -> bool:
            out = subprocess.run(
                ["sinfo", "-h", "-N", "-o", "%t"], env=env, capture_output=True, text=True
            )
            return (
                out.returncode == 0
                and out.stdout.split()
                and all(s == "idle" for s in out.stdout.split())
            )

        _wait(idle, timeout, "node never became idle", cluster)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _wait(pred, timeout: float, what: str, cluster: LocalSlurm) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in cluster.procs.items():
            if proc.poll() is not None:
                raise SlurmUnavailable(
                    f"{name} exited with {proc.returncode}\n{cluster.log_tail()}"
                )
        if pred():
            return
        time.sleep(0.5)
    raise SlurmUnavailable(f"{what} within {timeout:.0f} s\n{cluster.log_tail()}")
