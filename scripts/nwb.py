"""nwb: the session's NWB file from the workflow's own outputs (hippoflow/nwb/steps.py)."""

from pathlib import Path

from hippoflow.logs import run_job
from hippoflow.nwb.steps import nwb


def main(sm, log):
    wc, i = sm.wildcards, sm.input

    def one(name):
        files = list(getattr(i, name, []) or [])
        return files[0] if files else None

    sorts = list(i.sorts)
    nwb(
        sm.output[0],
        subject=wc.subject,
        day=wc.day,
        session=wc.session,
        header=i.header[0] if not isinstance(i.header, str) else i.header,
        rpl=i.rpl,
        ns5_digest=one("ns5_digest"),
        channels=sm.params.channels,
        lfp=list(i.lfp),
        highpass=list(i.highpass),
        raw=list(i.raw),
        sorts=[
            (a, c, sorts[2 * k], sorts[2 * k + 1]) for k, (a, c) in enumerate(sm.params.channels)
        ],
        # .../fields/arrayNN/channelNNN/fields.tsv -> (NN, NNN)
        fields={
            (Path(t).parent.parent.name[5:], Path(t).parent.name[7:]): t
            for t in getattr(i, "fields", [])
        },
        unity=one("unity"),
        eyelink=one("eyelink"),
        edfsplit=one("edfsplit"),
        gaze_csv=one("gaze"),
        cfg=sm.params.nwb,
        config=sm.config,
        log=log,
    )


run_job(main, snakemake)  # noqa: F821
