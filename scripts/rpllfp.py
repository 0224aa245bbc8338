"""RPLLFP: resample a channel to 1 kHz and band-pass it (zero phase)."""

from hippoflow.logs import run_job
from hippoflow.ripple.steps import lfp_file


def main(sm, log):
    lfp_file(sm.input.raw, sm.output[0], sm.params.args)


run_job(main, snakemake)  # noqa: F821
