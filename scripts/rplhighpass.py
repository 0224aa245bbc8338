"""RPLHighPass: zero-phase Butterworth band-pass of a channel at its own rate."""

from hippoflow.logs import run_job
from hippoflow.ripple.steps import rplhighpass


def main(sm, log):
    # the forward pass stays in memory within the job's mem_mb, else on node-local scratch
    rplhighpass(
        sm.input.raw,
        sm.output[0],
        sm.params.args,
        memory_mb=sm.resources.get("mem_mb"),
        scratch_dir=sm.config.get("scratch_dir"),
    )


run_job(main, snakemake)  # noqa: F821
