"""RPLSplit: one streaming pass over the session's .ns5 -> every channel's rplraw file."""

from contextlib import ExitStack
from pathlib import Path

import numpy as np

from hippoflow import dpt, ripple
from hippoflow.logs import Progress, run_job


def main(sm, log):
    header, blocks = ripple.open_session_ns5(
        list(sm.input.ns5), sm.input.nev[0] if sm.input.nev else None
    )
    n = sum(b.n_samples for b in blocks)
    log.info(
        "%s: %d channels in header, %d data block(s), %d samples (%.1f s) at %g Hz",
        header.path,
        len(header.channels),
        len(blocks),
        n,
        n / header.sampling_rate,
        header.sampling_rate,
    )
    ids = list(sm.params.channels)
    outputs = dict(zip(ids, map(Path, sm.output), strict=True))
    with ExitStack() as stack:
        objects = {}
        for e in ids:
            ch = header.channels[header.channel_index(e)]
            info = ripple.channel_info(ch, header.sampling_rate, n, 0.0, 0.0)
            path = outputs[e]
            objects[e] = stack.enter_context(
                dpt.StreamedObject(
                    path,
                    "data",
                    n,
                    np.float32,
                    {"analogInfo": info},
                    sm.params.args,
                    dirs=[path.parent.resolve()],
                )
            )

        def sink(e, start, values):
            objects[e].dataset[start : start + values.size] = values

        chunk = max(30000, (1 << 24) // max(1, len(header.channels)))
        extremes = ripple.split_stream(
            header, blocks, ids, sink, chunk=chunk, progress=Progress(log, "split")
        )
        for e, (lo, hi) in extremes.items():
            objects[e].set_value("analogInfo", "MinVal", value=lo)
            objects[e].set_value("analogInfo", "MaxVal", value=hi)
        for obj in objects.values():
            obj.commit()
    log.info("wrote %d channel files", len(ids))


run_job(main, snakemake)  # noqa: F821
