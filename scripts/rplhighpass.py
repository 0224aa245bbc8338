"""RPLHighPass: zero-phase Butterworth band-pass of a channel at its own rate."""

from hippoflow.logs import run_job
from hippoflow.ripple.steps import rplhighpass


def main(sm, log):
    rplhighpass(sm.input.raw, sm.output[0], sm.params.args)


run_job(main, snakemake)  # noqa: F821
