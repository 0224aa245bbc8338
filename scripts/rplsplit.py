"""RPLSplit: one streaming pass over the session's .ns5 -> every channel's rplraw file and the
.ns5's digest record (its SHA-256, hashed from the bytes the pass reads)."""

from hippoflow.logs import run_job
from hippoflow.ripple.steps import rplsplit


def main(sm, log):
    nev = sm.input.nev[0] if sm.input.nev else None
    # read from the config, not params: compressing or not changes no value, re-runs nothing
    compression = sm.config.get("split_compression", "none")
    rplsplit(
        sm.input.ns5,
        nev,
        sm.params.channels,
        sm.output.split,
        sm.params.args,
        compression=compression,
        record=sm.output.digest,
    )


run_job(main, snakemake)  # noqa: F821
