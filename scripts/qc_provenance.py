"""qc_provenance: parameters, package versions and raw-input digests of the run."""

import subprocess
from pathlib import Path

from hippoflow.logs import run_job
from hippoflow.qc import figures as qc


def main(sm, log):
    repo = Path(sm.params.repo)
    try:
        commit = subprocess.run(
            ["git", "-C", str(repo), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown (not a git checkout)"
    qc.provenance_html(
        sm.output[0],
        dict(sm.params.config),
        list(sm.input.raw),
        digests=sm.params.digests,
        extra={"workflow": str(repo), "workflow version (git)": commit},
    )
    log.info("%d raw inputs", len(sm.input.raw))


run_job(main, snakemake)  # noqa: F821
