"""RPLParallel: the session's parallel-port trial markers from its .nev."""

from hippoflow.logs import run_job
from hippoflow.ripple.steps import rplparallel


def main(sm, log):
    ns5 = sm.input.ns5[0] if sm.input.ns5 else None
    rplparallel(sm.input.nev[0], ns5, sm.output[0], sm.params.args, log=log)


run_job(main, snakemake)  # noqa: F821
