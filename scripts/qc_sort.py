"""qc_sort: the day-channel's sort summary picture."""

from hippoflow import dpt
from hippoflow.logs import run_job
from hippoflow.qc import figures as qc


def main(sm, log):
    sort = dpt.load_object(sm.input.sort)
    wc = sm.wildcards
    title = (
        f"{wc.subject} {wc.day} array{wc.array} channel{wc.channel}: {len(sort['cells'])} cells, "
        f"sessions {', '.join(sort['sessions'])}, noise {float(sort['noise_uv']):.1f} µV"
    )
    qc.sort_summary(sort, sm.output[0], title=title)
    log.info("wrote %s", sm.output[0])


run_job(main, snakemake)  # noqa: F821
