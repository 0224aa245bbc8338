# Place and view fields of every cell (hippoflow/fields/, docs/place-fields.md): per
# navigation session its place and view samples, once for every channel (fields_samples); per
# day-channel, each cell's maps, information and significance (fields), and its picture. The cells are known only after
# the curation, so, as curate does, the declared output is the day-channel's table and the job
# writes each cell's files beside it (cellNN.h5) and PyHipp's vmplacecell_<hash>.hkl in every
# navigation session's cellNN/.
from hippoflow.fields.steps import Params as _FieldParams

FIELD_PARAMS = vars(_FieldParams.from_config(config["fields"]))
FIELDS_DIR = "{subject}/{day}/fields/array{array}/channel{channel}"


rule fields_samples:
    input:
        unpack(field_samples_inputs),
    output:
        samples=out("{subject}/{day}/fields/samples/{session}.h5"),
    log:
        "logs/fields_samples/{subject}/{day}/{session}.log",
    benchmark:
        "benchmarks/runs/fields_samples/{subject}/{day}/{session}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: mem_for(input, factor=4, base=800) * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        min_speed=FIELD_PARAMS["min_speed"],
    script:
        "../scripts/fields_samples.py"


rule fields:
    input:
        unpack(field_inputs),
    output:
        table=out(f"{FIELDS_DIR}/fields.tsv"),
        # every cell's picture, one report item each (the cells are known only in the job)
        figures=report(
            directory(out(f"{FIELDS_DIR}/figures")),
            patterns=["{cell}.png"],
            caption="../report/fields_cell.rst",
            category="Fields",
            subcategory="{subject} {day}",
            labels={"array": "{array}", "channel": "{channel}", "cell": "{cell}"},
        ),
    log:
        "logs/fields/{subject}/{day}/{array}/{channel}.log",
    benchmark:
        "benchmarks/runs/fields/{subject}/{day}/{array}/{channel}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: mem_for(input, factor=3, base=800) * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        params=FIELD_PARAMS,
        sessions=lambda wc: PLAN.field_sessions(
            (wc.subject, wc.day), wc.array, wc.channel
        ),
        channel_dirs=cell_channel_dirs,
    script:
        "../scripts/fields.py"


rule fields_day:
    input:
        tables=day_field_tables,
    output:
        table=out("{subject}/{day}/fields/cells.tsv"),
        page=report(
            out("{subject}/{day}/fields/fields.html"),
            caption="../report/fields.rst",
            category="Fields",
            subcategory="{subject} {day}",
            labels={"figure": "place and view cells"},
        ),
    log:
        "logs/fields_day/{subject}/{day}.log",
    benchmark:
        "benchmarks/runs/fields_day/{subject}/{day}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 500 * attempt,
        runtime=lambda wc, attempt: 10 * attempt,
    script:
        "../scripts/fields_day.py"
