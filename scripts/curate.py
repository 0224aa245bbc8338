"""curate: merges, satellites and thresholds on a day-channel's sort; numbers the cells, writes
each session's cellNN/ trains and the day-channel's sort summary picture."""

from hippoflow.logs import run_job
from hippoflow.qc.steps import qc_sort
from hippoflow.sorting.steps import curate, export_cells


def main(sm, log):
    out, wc = sm.output, sm.wildcards
    curate(sm.input.sort, sm.params.args, out.curated, log=log)
    export_cells(out.curated, sm.params.channel_dirs, out.cells, log=log)
    qc_sort(out.curated, out.qc, wc.subject, wc.day, wc.array, wc.channel, log=log)


run_job(main, snakemake)  # noqa: F821
