"""qc_trials: the session's trials from its parallel-port markers."""

from hippoflow import dpt
from hippoflow.logs import run_job
from hippoflow.qc import figures as qc


def main(sm, log):
    obj = dpt.load_object(sm.input.markers)
    wc = sm.wildcards
    qc.trial_timeline(
        obj["markers"],
        obj["timeStamps"],
        sm.output[0],
        title=f"{wc.subject} {wc.day} {wc.session}: trial timeline",
        session_start=obj.get("sessionStartTime"),
    )
    log.info("wrote %s", sm.output[0])


run_job(main, snakemake)  # noqa: F821
