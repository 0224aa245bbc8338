"""Unity: the session's Unity log parsed into PyHipp's Unity object (Unity's own clock)."""

from hippoflow.behaviour.steps import unity
from hippoflow.logs import run_job


def main(sm, log):
    unity(sm.input.log[0], sm.input.rpl, sm.output[0], nev=sm.params.nev, log=log)


run_job(main, snakemake)  # noqa: F821
