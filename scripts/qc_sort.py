"""qc_sort: the day-channel's sort summary picture."""

from hippoflow.logs import run_job
from hippoflow.qc.steps import qc_sort


def main(sm, log):
    wc = sm.wildcards
    qc_sort(sm.input.sort, sm.output[0], wc.subject, wc.day, wc.array, wc.channel, log=log)


run_job(main, snakemake)  # noqa: F821
