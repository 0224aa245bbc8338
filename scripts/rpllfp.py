"""RPLLFP: each channel of a session resampled to 1 kHz and band-passed (zero phase)."""

from hippoflow.logs import run_job
from hippoflow.ripple.steps import rpllfp_session


def main(sm, log):
    rpllfp_session(list(sm.input.raw), list(sm.output), sm.params.args, log=log)


run_job(main, snakemake)  # noqa: F821
