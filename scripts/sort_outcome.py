"""sort_outcome: the day's sort outcomes; fails naming each day-channel whose sort failed."""

from hippoflow.logs import run_job
from hippoflow.sorting.outcome import sort_outcome


def main(sm, log):
    wc = sm.wildcards
    sort_outcome(sm.input.sorts, sm.output[0], wc.subject, wc.day, log=log)


run_job(main, snakemake)  # noqa: F821
