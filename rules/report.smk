# Snakemake report (`snakemake --report report.html`): workflow description, QC pictures and
# metrics flagged with report() in rules/sorting.smk, and the run's provenance.


report: "../report/workflow.rst"


rule provenance:
    input:
        # the split's digest records of the .ns5 files and the other (small) raw files to
        # hash: never an .ns5 the split reads, nor a split file (docs/design/digest-records.md)
        unpack(provenance_inputs),
    output:
        report(
            out("provenance.html"),
            caption="../report/provenance.rst",
            category="Provenance",
            labels={"figure": "parameters, versions, input digests"},
        ),
    log:
        "logs/provenance/provenance.log",
    benchmark:
        "benchmarks/runs/provenance/provenance.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 500 * attempt,
        runtime=lambda wc, input, attempt: runtime_for(input.raw, 1) * attempt,
    params:
        config=config,
        digests=config["report"]["input_digests"],
        # every raw file the page lists (their sizes: a stat, not a read)
        files=PLAN.raw_files(),
        repo=workflow.basedir,
        # planning's problems and warnings; the end-of-run summary is a file beside the page
        notes={
            "planning problems": "; ".join(PLAN.problem_messages().values()) or "none",
            "planning warnings": "; ".join(PLAN.warnings) or "none",
            "run summary": "hippoflow_summary.txt beside this page (written at each run's end)",
        },
    script:
        "../scripts/qc_provenance.py"
