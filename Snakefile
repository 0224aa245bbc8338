# hippoflow: raw Ripple / EyeLink / Unity files -> PyHipp-compatible derived files.
# Configuration: config/config.yaml (schema in config/schema/); rules per domain in rules/.
import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

min_version("9.0")

# The hippoflow package lives beside this file: importable at parse time and, through
# PYTHONPATH, in every job's script (also in conda environments and on cluster nodes).
sys.path.insert(0, workflow.basedir)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        filter(None, [workflow.basedir, os.environ.get("PYTHONPATH")])
    )
)


configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/problems.smk"
include: "rules/ripple.smk"
include: "rules/behaviour.smk"
include: "rules/sorting.smk"
include: "rules/fields.smk"
include: "rules/qc.smk"
include: "rules/report.smk"
include: "rules/nwb.smk"


# node-local mode: the day group's members, once every rule exists; inside a Slurm job, the
# job's cores and memory as limits (rules/common.smk)
declare_node_local_group()
limit_to_slurm_job()


# a function, so that the ~40,000 targets of a full tree are only built when `all` is asked
# for (a run of one channel's file does not pay for them at parse time)
rule all:
    default_target: True
    input:
        lambda wc: all_targets(),


# One run at a time per output tree (hippoflow/lock.py): taken when jobs start (not in dry
# runs or cluster jobs), released at the end. Same working directory: Snakemake's own lock.
onstart:
    from hippoflow.lock import LockRefused, acquire

    try:
        _stale = acquire(OUTPUT_ROOT, os.getcwd())
    except LockRefused as exc:
        raise WorkflowError(str(exc)) from None
    if _stale:
        logger.warning(f"hippoflow: warning: {_stale}")
        PLAN.warnings.append(_stale)


# Run summary (hippoflow/summary.py: produced, failed, not run, planning problems, warnings
# of the plan and of the run's job logs) to this log and <output_root>/hippoflow_summary.txt,
# the lock released; then the completion notice (config notify_command: hippoflow/notify.py).
onsuccess:
    from hippoflow.notify import notify
    from hippoflow.summary import end_of_run

    logger.info(end_of_run(log, True, OUTPUT_ROOT, PLAN))
    notify(config["notify_command"], "success", log)


onerror:
    from hippoflow.notify import notify
    from hippoflow.summary import end_of_run

    logger.error(end_of_run(log, False, OUTPUT_ROOT, PLAN))
    notify(config["notify_command"], "error", log)
