"""qc_metrics: the day's per-cell quality metrics as an HTML table (and TSV)."""

import re

from hippoflow import dpt
from hippoflow.logs import run_job
from hippoflow.qc import figures as qc


def main(sm, log):
    rows = []
    for path in sm.input.sorts:
        sort = dpt.load_object(path)
        m = re.search(r"array(\d+)/channel(\d+)/", str(path))
        label = {"array": m.group(1), "channel": m.group(2)} if m else {"sort": str(path)}
        label["sessions"] = len(sort["sessions"])
        rows += qc.metrics_rows(sort, label)
    title = f"{sm.wildcards.subject} {sm.wildcards.day}: quality metrics of every cell"
    qc.write_table(rows, sm.output.table, sm.output.tsv, title=title)
    log.info("%d rows from %d sorts", len(rows), len(sm.input.sorts))


run_job(main, snakemake)  # noqa: F821
