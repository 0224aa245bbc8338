"""EDFSplit: the day's navigation EyeLink file split into its navigation sessions."""

from hippoflow.behaviour.steps import edfsplit
from hippoflow.logs import run_job


def main(sm, log):
    edfsplit(
        list(sm.input.eye),
        sm.params.day_dir,
        sm.wildcards.day,
        list(sm.params.sessions),
        sm.output[0],
        log=log,
        eye=sm.params.eye,
    )


run_job(main, snakemake)  # noqa: F821
