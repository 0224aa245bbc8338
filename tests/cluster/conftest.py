"""Fixtures for the cluster tests: a real one-node Slurm cluster.

The ``slurm_cluster`` fixture installs Debian's slurmctld, slurmd, slurm-client and munge
(``--no-install-recommends``) when missing, starts munged, slurmctld and slurmd with a
slurm.conf in a temp dir (accounting off, as on AWS ParallelCluster) and stops, by PID, the
daemons it started. It skips (with the reason) only off root or off Debian when CI is not
set; with CI=true it runs or fails. Helpers live in clusterutil.py. tests/cluster is a package
so that this conftest does not replace tests/conftest.py as the module ``conftest``.
"""

from __future__ import annotations

import pytest

from . import localslurm


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    reason = localslurm.why_unavailable()
    if reason:
        if localslurm.in_ci():
            pytest.fail(f"CI=true but the Slurm cluster tests cannot run: {reason}")
        pytest.skip(reason)
    cluster = localslurm.start(tmp_path_factory.mktemp("slurm"), log=lambda m: None)
    try:
        yield cluster
    finally:
        cluster.stop()
