"""Raycast: every gaze sample's disc of rays onto the maze (binData.hdf, unityfile_eyelink.csv)."""

from hippoflow.behaviour.steps import raycast
from hippoflow.logs import Progress, run_job


def main(sm, log):
    progress = Progress(log, "raycast")
    raycast(
        sm.input.unity,
        sm.input.eyelink,
        sm.output.bindata,
        sm.output.csv,
        radius_px=sm.params.radius_px,
        density=sm.params.density,
        threshold=sm.params.threshold,
        log=log,
        progress=lambda done, total: progress(done / max(total, 1)),
    )


run_job(main, snakemake)  # noqa: F821
