"""Eyelink: one session's EyeLink object (tracker clock) and its missingData.csv."""

from hippoflow.behaviour.steps import eyelink
from hippoflow.logs import run_job


def main(sm, log):
    eyelink(
        list(sm.input.source),
        sm.input.rpl,
        sm.wildcards.session,
        sm.output.eyelink,
        sm.output.missing,
        day_dir=sm.params.day_dir,
        log=log,
        eye=sm.params.eye,
    )


run_job(main, snakemake)  # noqa: F821
