"""qc_metrics: the day's per-cell quality metrics as an HTML table (and TSV)."""

from hippoflow.logs import run_job
from hippoflow.qc.steps import qc_metrics


def main(sm, log):
    wc = sm.wildcards
    qc_metrics(sm.input.sorts, sm.output.table, sm.output.tsv, wc.subject, wc.day, log=log)


run_job(main, snakemake)  # noqa: F821
