"""Alignment: a Unity or Eyelink object rescaled onto the Ripple clock (final object)."""

from hippoflow.behaviour.steps import align_step
from hippoflow.logs import run_job


def main(sm, log):
    align_step(
        sm.params.kind, sm.input.obj, sm.input.rpl, sm.output[0], sm.params.threshold, log=log
    )


run_job(main, snakemake)  # noqa: F821
