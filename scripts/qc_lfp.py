"""qc_lfp: power spectrum of every channel's LFP in the session."""

import re

from hippoflow import dpt
from hippoflow.logs import run_job
from hippoflow.qc import figures as qc


def main(sm, log):
    channels = []
    for path in sm.input.lfp:
        obj = dpt.load_object(path)
        m = re.search(r"channel(\d+)", str(path))
        channels.append((f"ch{m.group(1)}", obj["data"], float(obj["analogInfo"]["SampleRate"])))
    wc = sm.wildcards
    qc.lfp_spectra(channels, sm.output[0], title=f"{wc.subject} {wc.day} {wc.session}: LFP spectra")
    log.info("%d channels", len(channels))


run_job(main, snakemake)  # noqa: F821
