"""sort: MountainSort5 on one channel's high-pass data of every session of the day."""

from hippoflow.logs import run_job
from hippoflow.sorting.steps import sort


def main(sm, log):
    sort(sm.input.highpass, sm.params.sessions, sm.params.args, sm.output[0], sm.threads, log=log)


run_job(main, snakemake)  # noqa: F821
