"""qc_provenance: parameters, package versions and raw-input digests of the run (the .ns5
digests from the split's records, the other raw files hashed here)."""

from hippoflow.logs import run_job
from hippoflow.qc.steps import provenance


def main(sm, log):
    provenance(
        sm.params.files,
        sm.output[0],
        sm.params.config,
        sm.params.digests,
        sm.params.repo,
        log=log,
        notes=sm.params.get("notes"),
        records=sm.input.records,
    )


run_job(main, snakemake)  # noqa: F821
