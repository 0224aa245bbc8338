"""qc_provenance: parameters, package versions and raw-input digests of the run."""

from hippoflow.logs import run_job
from hippoflow.qc.steps import provenance


def main(sm, log):
    provenance(
        sm.input.raw,
        sm.output[0],
        sm.params.config,
        sm.params.digests,
        sm.params.repo,
        log=log,
        notes=sm.params.get("notes"),
    )


run_job(main, snakemake)  # noqa: F821
