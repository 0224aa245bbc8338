# hippoflow: raw Ripple / EyeLink / Unity files -> PyHipp-compatible derived files.
# Configuration: config/config.yaml (schema in config/schema/); rules per domain in rules/.
import os
import sys

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
include: "rules/qc.smk"
include: "rules/report.smk"
include: "rules/nwb.smk"


rule all:
    default_target: True
    input:
        all_targets(),


# Completion notice (config notify_command, default none): see hippoflow/notify.py.
onsuccess:
    from hippoflow.notify import notify

    notify(config["notify_command"], "success", log)


onerror:
    from hippoflow.notify import notify

    notify(config["notify_command"], "error", log)
