"""RPLLFP: resample a channel to 1 kHz and band-pass it (zero phase)."""

from pathlib import Path

from hippoflow import dpt, ripple
from hippoflow.logs import run_job


def main(sm, log):
    args = sm.params.args
    info = dpt.read_flat_dict(sm.input.raw, "analogInfo")
    raw = dpt.open_array(sm.input.raw)
    try:
        n = raw.shape[0]
        log.info("%s: %d samples at %g Hz", sm.input.raw, n, info["SampleRate"])
        data = ripple.lowpass(
            n,
            lambda s, e: raw[s:e],
            info["SampleRate"],
            args["ResampleRate"],
            args["LFPOrder"],
            args["LowPassFrequency"],
        )
    finally:
        raw.file.close()
    out = Path(sm.output[0])
    info = ripple.derived_info(
        info, data, args["ResampleRate"], args["LowPassFrequency"], args["LFPOrder"], "lfp"
    )
    dpt.save_object(out, {"data": data, "analogInfo": info}, args, dirs=[out.parent.resolve()])


run_job(main, snakemake)  # noqa: F821
