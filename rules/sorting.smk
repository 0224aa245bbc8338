# Spike sorting per day-channel (MountainSort5 through SpikeInterface), per-session cells,
# QC figures.  The sort object and cells: hippoflow/sorting/ (steps.py holds each rule's step).


rule sort:
    input:
        highpass=sort_highpass,
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
        mem_mb=lambda wc, input, attempt: mem_for(input.highpass, factor=1.5, base=800)
        * attempt,
        runtime=lambda wc, input, attempt: runtime_for(input.highpass, 20) * attempt,
    params:
        sessions=sort_sessions,
        args=SORT_ARGS,
    script:
        "../scripts/sort.py"


# Cells are numbered once per day-channel; the number of cells is known only after the sort,
# so the job's declared output is a listing (cells.tsv) and it writes the cellNN/ directories
# of every session itself: the DAG stays plannable without a checkpoint.
rule export_cells:
    input:
        sort=out(f"{SORT_DIR}/{SORT_NAME}"),
    output:
        out(f"{SORT_DIR}/cells.tsv"),
    log:
        "logs/export_cells/{subject}/{day}/{array}/{channel}.log",
    benchmark:
        "benchmarks/runs/export_cells/{subject}/{day}/{array}/{channel}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: mem_for(input.sort, factor=4) * attempt,
        runtime=lambda wc, attempt: 10 * attempt,
    params:
        channel_dirs=cell_channel_dirs,
    script:
        "../scripts/export_cells.py"


rule qc_sort:
    input:
        sort=out(f"{SORT_DIR}/{SORT_NAME}"),
    output:
        report(
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
        "logs/qc_sort/{subject}/{day}/{array}/{channel}.log",
    benchmark:
        "benchmarks/runs/qc_sort/{subject}/{day}/{array}/{channel}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: mem_for(input.sort, factor=4, base=600)
        * attempt,
        runtime=lambda wc, attempt: 10 * attempt,
    script:
        "../scripts/qc_sort.py"


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
        mem_mb=lambda wc, input, attempt: mem_for(input.sorts, factor=2) * attempt,
        runtime=lambda wc, attempt: 10 * attempt,
    script:
        "../scripts/qc_metrics.py"
