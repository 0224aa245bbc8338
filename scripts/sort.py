"""sort: MountainSort5 on one channel's high-pass data of every session of the day."""

from pathlib import Path

from threadpoolctl import threadpool_limits

from hippoflow import dpt
from hippoflow.logs import Progress, run_job
from hippoflow.sorting import sort as sorting


def main(sm, log):
    out = Path(sm.output[0])
    sources = list(zip(sm.params.sessions, sm.input.highpass, strict=True))
    with threadpool_limits(limits=sm.threads):  # BLAS/OpenMP: the job's threads only
        result = sorting.sort_day_channel(
            sources,
            dict(sm.params.args),
            workdir=out.parent,
            log=log,
            progress=Progress(log, "concatenate"),
        )
    log.info(
        "%d cells kept (%d units dropped by curation), %d spikes",
        len(result["cells"]),
        len(result["dropped_units"]),
        len(result["spike_times"]),
    )
    dpt.save_object(out, result, sm.params.args, [out.parent.resolve()])


run_job(main, snakemake)  # noqa: F821
