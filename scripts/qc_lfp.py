"""qc_lfp: power spectrum of every channel's LFP in the session."""

from hippoflow.logs import run_job
from hippoflow.qc.steps import qc_lfp


def main(sm, log):
    wc = sm.wildcards
    qc_lfp(sm.input.lfp, sm.output[0], wc.subject, wc.day, wc.session, log=log)


run_job(main, snakemake)  # noqa: F821
