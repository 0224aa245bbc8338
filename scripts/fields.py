"""fields: every cell's place and view maps, information and significance of a day-channel."""

from pathlib import Path

from hippoflow.fields.steps import Params, fields
from hippoflow.logs import run_job


def main(sm, log):
    wc, inp = sm.wildcards, sm.input
    sessions = {s: inp[f"samples_{s}"] for s in sm.params.sessions}
    fields(
        inp.curated,
        sessions,
        sm.params.channel_dirs,
        Path(sm.output.table).parent,
        sm.output.table,
        Params(**sm.params.params),
        day=wc.day,
        array=wc.array,
        channel=wc.channel,
        figures_dir=sm.output.figures,
        log=log,
        subject=wc.subject,
    )


run_job(main, snakemake)  # noqa: F821
