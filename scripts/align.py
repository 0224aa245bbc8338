"""align_unity / align_eyelink: a Unity or Eyelink object rescaled onto the Ripple clock."""

from hippoflow.behaviour.steps import align_eyelink, align_unity
from hippoflow.logs import run_job

STEPS = {"unity": align_unity, "eyelink": align_eyelink}


def main(sm, log):
    step = STEPS[sm.params.kind]
    step(sm.input.obj, sm.input.rpl, sm.output[0], sm.params.threshold, log=log)


run_job(main, snakemake)  # noqa: F821
