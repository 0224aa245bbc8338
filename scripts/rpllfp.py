"""RPLLFP: resample a channel to 1 kHz and band-pass it (zero phase)."""

from hippoflow.logs import run_job
from hippoflow.ripple.steps import rpllfp


def main(sm, log):
    rpllfp(sm.input.raw, sm.output[0], sm.params.args)


run_job(main, snakemake)  # noqa: F821
