"""curate: merges, satellites and thresholds on a day-channel's sort; numbers the cells."""

from hippoflow.logs import run_job
from hippoflow.sorting.steps import curate


def main(sm, log):
    curate(sm.input.sort, sm.params.args, sm.output[0], log=log)


run_job(main, snakemake)  # noqa: F821
