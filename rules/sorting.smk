# Spike sorting per day-channel (MountainSort5 through SpikeInterface), curation, per-session
# cells, QC figures.  The sort object and cells: hippoflow/sorting/ (steps.py holds each rule's
# step).  sort keeps every unit the sorter found and its file's hash covers the sorter's keys
# only; curate applies merges, satellites and thresholds (curated_<h>.hkl, hash of the curation
# keys) and numbers the cells: a changed curation limit re-runs curate and what reads it.
from hippoflow.plan import targets as _targets
from hippoflow.sorting.sort import runtime_minutes as _sort_runtime


rule sort:
    input:
        highpass=sort_highpass,
        gone=gone_sessions,
    output:
        out(f"{SORT_DIR}/{SORT_NAME}"),
    log:
        "logs/sort/{subject}/{day}/{array}/{channel}.log",
    benchmark:
        "benchmarks/runs/sort/{subject}/{day}/{array}/{channel}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: mem_of_mb(sort_mb(wc), 1.5, base=800) * attempt,
        # the sorter's own time limit (sorting.time_limit_*, read by the script from the
        # config so that changing it re-runs nothing) ends the job first, naming the input
        runtime=lambda wc, attempt: max(
            runtime_of_mb(sort_mb(wc), 20),
            _sort_runtime(sort_seconds(wc), config["sorting"]),
        )
        * attempt,
    params:
        sessions=sort_sessions,
        # the day's sessions this sort goes without, and why (its log, object and figure say)
        left_out=lambda wc: PLAN.sort_left_out(
            (wc.subject, wc.day), wc.array, wc.channel
        ),
        args=SORT_ARGS,
    script:
        "../scripts/sort.py"


# curate also numbers the cells and writes what reads them: the cells are known only after
# the curation, so the declared output is a listing (cells.tsv) and the job writes the cellNN/
# directories of every session itself (the DAG stays plannable without a checkpoint), and the
# day-channel's QC figure. One job, not three: a day has 124 of each, and each job costs
# planning time (46 days: 11,400 fewer jobs) and, on Slurm, a Python start in its group.
rule curate:
    input:
        sort=out(f"{SORT_DIR}/{SORT_NAME}"),
    output:
        curated=out(f"{SORT_DIR}/{CURATED_NAME}"),
        cells=out(f"{SORT_DIR}/cells.tsv"),
        qc=report(
            out(f"{SORT_DIR}/qc_sort.png"),
            caption="../report/qc_sort.rst",
            category="Sorting",
            subcategory="{subject} {day}",
            labels={
                "array": "{array}",
                "channel": "{channel}",
                "figure": "sort summary",
            },
        ),
    log:
        "logs/curate/{subject}/{day}/{array}/{channel}.log",
    benchmark:
        "benchmarks/runs/curate/{subject}/{day}/{array}/{channel}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: within_job(
            mem_for(input.sort, factor=4, base=600) * attempt
        ),
        runtime=lambda wc, attempt: 20 * attempt,
    params:
        args=CURATE_ARGS,
        channel_dirs=cell_channel_dirs,
    script:
        "../scripts/curate.py"


# PyHipp's Waveform reads <day>/mountains/channelNNN/output/templates.hkl (the directory names
# the channel only): a rule of its own, as its path has no {array} for curate to share.
rule waveform_templates:
    input:
        sort=templates_sort,
    output:
        out(f"{DAY_DIR}/{_targets.WAVEFORM_TEMPLATES}"),
    log:
        "logs/waveform_templates/{subject}/{day}/{channel}.log",
    benchmark:
        "benchmarks/runs/waveform_templates/{subject}/{day}/{channel}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: within_job(
            mem_for(input.sort, factor=2) * attempt
        ),
        runtime=lambda wc, attempt: 10 * attempt,
    script:
        "../scripts/waveform_templates.py"


rule qc_metrics:
    input:
        sorts=day_sorts,
    output:
        table=report(
            out("{subject}/{day}/sort/metrics.html"),
            caption="../report/qc_metrics.rst",
            category="Sorting",
            subcategory="{subject} {day}",
            labels={"array": "all", "channel": "all", "figure": "quality metrics"},
        ),
        tsv=out("{subject}/{day}/sort/metrics.tsv"),
    log:
        "logs/qc_metrics/{subject}/{day}.log",
    benchmark:
        "benchmarks/runs/qc_metrics/{subject}/{day}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: within_job(
            mem_for(input.sorts, factor=2) * attempt
        ),
        runtime=lambda wc, attempt: 10 * attempt,
    script:
        "../scripts/qc_metrics.py"


# The day's sort outcomes: fails naming each day-channel whose sorting failed on its data
# (hippoflow/sorting/outcome.py: the sort writes a unit-less object saying so, so that the
# sessions' NWB files are still written) and dates those sorts 1970 so the next run redoes them.
rule sort_outcome:
    input:
        sorts=day_sorts,
    output:
        out(f"{{subject}}/{{day}}/sort/{_naming.SORT_OUTCOME_NAME}"),
    log:
        "logs/sort_outcome/{subject}/{day}.log",
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: within_job(
            mem_for(input.sorts, factor=2) * attempt
        ),
        runtime=lambda wc, attempt: 10 * attempt,
    script:
        "../scripts/sort_outcome.py"
