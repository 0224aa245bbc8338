# Per-session QC figures that are not about sorting: trial timeline, LFP spectra.
# (Sorting QC, the sort summary written by curate and qc_metrics, sits with the sorting rules.)


rule qc_trials:
    input:
        markers=out(f"{SESSION_DIR}/{RPLPARALLEL_NAME}"),
    output:
        report(
            out(f"{SESSION_DIR}/qc_trials.png"),
            caption="../report/qc_trials.rst",
            category="Sessions",
            subcategory="{subject} {day}",
            labels={"session": "{session}", "figure": "trial timeline"},
        ),
    log:
        "logs/qc_trials/{subject}/{day}/{session}.log",
    benchmark:
        "benchmarks/runs/qc_trials/{subject}/{day}/{session}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 600 * attempt,
        runtime=lambda wc, attempt: 10 * attempt,
    script:
        "../scripts/qc_trials.py"


rule qc_lfp:
    input:
        lfp=session_lfps,
    output:
        report(
            out(f"{SESSION_DIR}/qc_lfp_spectrum.png"),
            caption="../report/qc_lfp.rst",
            category="Sessions",
            subcategory="{subject} {day}",
            labels={"session": "{session}", "figure": "LFP spectra"},
        ),
    log:
        "logs/qc_lfp/{subject}/{day}/{session}.log",
    benchmark:
        "benchmarks/runs/qc_lfp/{subject}/{day}/{session}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: 600 * attempt,
        runtime=lambda wc, attempt: runtime_of_mb(session_lfp_mb(_session(wc)), 10)
        * attempt,
    script:
        "../scripts/qc_lfp.py"
