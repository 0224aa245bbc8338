"""sort: MountainSort5 on one channel's high-pass data of every session of the day."""

from hippoflow.logs import run_job
from hippoflow.sorting.sort import LIMIT_KEYS
from hippoflow.sorting.steps import sort


def main(sm, log):
    wc = sm.wildcards
    # the time limit comes from the config, not from params: changing it re-runs no sort
    limits = {k: sm.config["sorting"][k] for k in LIMIT_KEYS}
    label = f"{wc.subject} {wc.day} array{wc.array} channel{wc.channel}"
    sort(
        sm.input.highpass,
        sm.params.sessions,
        sm.params.args,
        sm.output[0],
        sm.threads,
        log=log,
        limits=limits,
        label=label,
        scratch_dir=sm.config.get("scratch_dir"),
        left_out=sm.params.left_out,
    )


run_job(main, snakemake)  # noqa: F821
