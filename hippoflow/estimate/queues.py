"""Slurm queues: which queue runs each rule, the work and submissions each queue gets, the
nodes Slurm starts for it and how long they stay up, and what that costs."""

from __future__ import annotations

import math
from collections import defaultdict

from hippoflow.estimate.compute import CHANNEL_RULES


class Queues:
    """Per queue: core-seconds (with per-submission overhead), submissions and its longest
    single Slurm job. ``parts``: rule -> partition (the profile's); unnamed rules and unknown
    partitions go to the cluster file's first queue."""

    def __init__(self, cluster: dict, parts: dict[str, str], jobs_limit: int, overhead: float):
        self.cluster = cluster
        self.parts = parts
        self.jobs_limit = jobs_limit
        self.overhead = overhead
        self.default = next(iter(cluster["queues"]))
        self.core_s: dict[str, float] = defaultdict(float)
        self.subs: dict[str, int] = defaultdict(int)
        self.longest: dict[str, float] = defaultdict(float)
        self.width: dict[str, int] = defaultdict(lambda: 1)  # CPUs of its widest Slurm job

    def of(self, rule: str) -> str:
        q = self.parts.get(rule, self.default)
        return q if q in self.cluster["queues"] else self.default

    def work(self, rule: str, seconds: float) -> None:
        """CPU seconds of a rule's jobs (without submission overhead)."""
        self.core_s[self.of(rule)] += seconds

    def submit(
        self, queue: str, n: int, seconds_each: float, cpus: int = 1, work_each: float = 0.0
    ) -> None:
        """``n`` Slurm jobs of ``seconds_each`` wall time on ``cpus`` CPUs each; their work
        (``work_each`` CPU seconds, counted by :meth:`work`) leaves the rest of the CPUs
        they hold idle, which is counted here with the per-submission overhead."""
        self.subs[queue] += n
        self.core_s[queue] += n * self.overhead * cpus
        if cpus > 1:
            self.core_s[queue] += n * max(0.0, cpus * seconds_each - work_each)
        self.width[queue] = max(self.width[queue], cpus)
        if n:
            self.longest[queue] = max(self.longest[queue], seconds_each + self.overhead)

    def busy(self, prices: dict, io_wall: float) -> dict[str, dict]:
        """Per queue: nodes, seconds they stay up (``busy_s``), CPU-bound seconds, $/h.

        Slurm starts nodes for the jobs queued at once (the profile's `jobs`, at most as many
        as the queue's nodes hold: vCPUs // the CPUs of its widest job each); they stay up while their jobs run or, for the queues that carry the
        channel work, wait on shared storage, and at least for the queue's longest job."""
        inst = prices["instances"]
        bulk = {self.of(r) for r in CHANNEL_RULES}
        out = {}
        for q, qs in self.core_s.items():
            spec = inst[self.cluster["queues"][q]["instance"]]
            vcpus = int(spec["vcpus"])
            per_node = max(1, vcpus // self.width[q])  # Slurm jobs side by side on a node
            slots = per_node * self.cluster["queues"][q]["max_nodes"]
            conc = max(1, min(self.subs[q], self.jobs_limit, slots))
            nodes = math.ceil(conc / per_node)
            cpu = qs / (nodes * vcpus)
            busy = max(cpu, io_wall if q in bulk else 0.0, self.longest[q])
            out[q] = {"nodes": nodes, "busy_s": busy, "cpu_s": cpu, "usd_h": spec["usd_per_hour"]}
        return out

    def compute_cores(self, prices: dict, used) -> int:
        inst = prices["instances"]
        return sum(
            inst[q["instance"]]["vcpus"] * q["max_nodes"]
            for name, q in self.cluster["queues"].items()
            if name in used
        )
