"""export_cells: split a day-channel's sorted units back into per-session cellNN/ trains."""

from hippoflow.logs import run_job
from hippoflow.sorting.steps import export_cells


def main(sm, log):
    export_cells(sm.input.sort, sm.params.channel_dirs, sm.output[0], log=log)


run_job(main, snakemake)  # noqa: F821
