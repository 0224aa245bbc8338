"""RPLHighPass: zero-phase Butterworth band-pass of a channel at its own rate."""

from pathlib import Path

import numpy as np

from hippoflow import dpt, ripple
from hippoflow.logs import Progress, run_job


def main(sm, log):
    args = sm.params.args
    info = dpt.read_flat_dict(sm.input.raw, "analogInfo")
    raw = dpt.open_array(sm.input.raw)
    out = Path(sm.output[0])
    try:
        n = raw.shape[0]
        fs = info["SampleRate"]
        log.info("%s: %d samples at %g Hz", sm.input.raw, n, fs)
        low, high = args["HighPassFrequency"]
        sos = ripple.bandpass_sos(low, high, args["HighOrder"] // 2, fs)
        new_info = ripple.derived_info(
            info, None, fs, args["HighPassFrequency"], args["HighOrder"], "hp"
        )
        with dpt.StreamedObject(
            out, "data", n, np.float32, {"analogInfo": new_info}, args, dirs=[out.parent.resolve()]
        ) as obj:
            dset = obj.dataset

            def write(s, y):
                dset[s : s + y.size] = y

            ripple.filtfilt_stream(
                sos,
                n,
                lambda s, e: raw[s:e],
                write,
                lambda s, e: dset[s:e],
                ripple.pyhipp_padlen(args["HighOrder"] // 2),
                progress=Progress(log, "high-pass"),
            )
            lo, hi = ripple.stream_extremes(n, lambda s, e: dset[s:e])
            obj.set_value("analogInfo", "MinVal", value=lo)
            obj.set_value("analogInfo", "MaxVal", value=hi)
            obj.commit()
    finally:
        raw.file.close()


run_job(main, snakemake)  # noqa: F821
