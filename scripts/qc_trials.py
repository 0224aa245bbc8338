"""qc_trials: the session's trials from its parallel-port markers."""

from hippoflow.logs import run_job
from hippoflow.qc.steps import qc_trials


def main(sm, log):
    wc = sm.wildcards
    qc_trials(sm.input.markers, sm.output[0], wc.subject, wc.day, wc.session, log=log)


run_job(main, snakemake)  # noqa: F821
