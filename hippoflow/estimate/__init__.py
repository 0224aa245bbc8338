"""A plan before the run: jobs, Slurm submissions, core-hours, bytes through shared storage,
storage needed, wall time and dollars for a raw tree on a ParallelCluster file.

Inputs: the raw tree (only ``.ns5`` headers and data-block headers are read, through
:func:`hippoflow.plan.make_plan` and :mod:`hippoflow.ripple.nsx`), a Snakemake profile (its
``groups`` / ``group-components``), a cluster file (``cluster-config.yaml``: queues, instance
types, head node, shared storage), ``config/prices.yaml`` (instance figures and prices, dated)
and ``config/rates.yaml`` (per-job rates, with the date and machine they were measured on).
Output: :func:`estimate`'s dict, printed by ``python -m hippoflow.estimate``.

One module per concern:
* :mod:`.tree`: each session's length and channel count from the headers;
* :mod:`.dag`: jobs per rule and day from Snakemake's own DAG of the run (``snakemake
  --dag``); submissions = ungrouped jobs + ceil(connected components of each group / its
  group-components);
* :mod:`.compute`: CPU seconds per job = start-up + fixed cost + rate x channel-hours;
* :mod:`.storage`: bytes through shared storage (``default``: split, high-pass and LFP files
  live there; ``nodelocal``: a day's split and high-pass files stay on the node, only the
  raw input, the LFP and the NWB files cross it), its throughput and price;
* :mod:`.queues`: per queue (the profile's slurm_partition per rule; unnamed rules on the
  first queue) the nodes Slurm starts for the jobs queued at once (min(submissions, profile
  `jobs`, queue cores) / vCPUs per node), up for max(its core-seconds incl. per-submission
  overhead / its cores, shared bytes / shared-storage throughput if it runs channel work, its
  longest Slurm job);
* :mod:`.inputs`: reading the profile, cluster file, prices and rates;
* :mod:`.model`: :func:`estimate`: wall time = the longest of these; dollars = each queue's
  nodes x that time x its price (spot: x spot_fraction) + the head node and the shared
  storage for the wall time.
"""

from hippoflow.estimate.inputs import PRICES, RATES, REPO, merged
from hippoflow.estimate.model import MODES, estimate
from hippoflow.estimate.storage import day_bytes
from hippoflow.estimate.tree import session_lengths

__all__ = ["MODES", "PRICES", "RATES", "REPO", "day_bytes", "estimate", "merged", "session_lengths"]
