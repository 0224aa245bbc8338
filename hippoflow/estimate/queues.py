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

    def of(self, rule: str) -> str:
        q = self.parts.get(rule, self.default)
        return q if q in self.cluster["queues"] else self.default

    def work(self, rule: str, seconds: float) -> None:
        """CPU seconds of a rule's jobs (without submission overhead)."""
        self.core_s[self.of(rule)] += seconds

    def submit(self, queue: str, n: int, seconds_each: float) -> None:
        """``n`` Slurm jobs of ``seconds_each`` (their work, counted by :meth:`work`)."""
        self.subs[queue] += n
        self.core_s[queue] += n * self.overhead
        if n:
            self.longest[queue] = max(self.longest[queue], seconds_each + self.overhead)

    def busy(self, prices: dict, io_wall: float) -> dict[str, dict]:
        """Per queue: nodes, seconds they stay up (``busy_s``), CPU-bound seconds, $/h.

        Slurm starts nodes for the jobs queued at once (the profile's `jobs`, at most the
        queue's cores); they stay up while their jobs run or, for the queues that carry the
        channel work, wait on shared storage, and at least for the queue's longest job."""
        inst = prices["instances"]
        bulk = {self.of(r) for r in CHANNEL_RULES}
        out = {}
        for q, qs in self.core_s.items():
            spec = inst[self.cluster["queues"][q]["instance"]]
            vcpus = int(spec["vcpus"])
            cores = vcpus * self.cluster["queues"][q]["max_nodes"]
            conc = max(1, min(self.subs[q], self.jobs_limit, cores))
            nodes = math.ceil(conc / vcpus)
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
