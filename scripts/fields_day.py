"""fields_day: the day's table of cells with their place and view significance."""

from hippoflow.fields.steps import fields_day
from hippoflow.logs import run_job


def main(sm, log):
    wc = sm.wildcards
    title = f"{wc.subject} {wc.day}: place and view cells"
    fields_day(sm.input.tables, sm.output.table, sm.output.page, title, wc.subject, wc.day, log)


run_job(main, snakemake)  # noqa: F821
