"""RPLParallel: the session's parallel-port trial markers from its .nev."""

from pathlib import Path

from hippoflow import dpt
from hippoflow.logs import run_job
from hippoflow.ripple import markers as ripple


def main(sm, log):
    nev = sm.input.nev[0]
    ripple.check_pair(nev, sm.input.ns5[0] if sm.input.ns5 else None)
    codes, times = ripple.read_nev_events(nev)
    obj = ripple.arrange_markers(codes, times, nev)
    n, k = obj["markers"].shape
    log.info("%s: %d events, %d trials x %d markers", nev, codes.size, n, k)
    out = Path(sm.output[0])
    dpt.save_object(out, obj, sm.params.args, dirs=[out.parent.resolve()])


run_job(main, snakemake)  # noqa: F821
