# Behaviour: Unity logs, EyeLink files, alignment onto the Ripple clock, gaze raycast.
# Unaligned objects are temporary; the final unity/eyelink objects hold Ripple-clock times.


rule unity:
    input:
        log=unity_log,
        rpl=out(f"{SESSION_DIR}/{RPLPARALLEL_NAME}"),
        changed=changed_unity,
    output:
        temp(out(f"{SESSION_DIR}/.unaligned_{UNITY_NAME}")),
    log:
        "logs/unity/{subject}/{day}/{session}.log",
    benchmark:
        "benchmarks/runs/unity/{subject}/{day}/{session}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: mem_for(input.log, factor=40) * attempt,
        runtime=lambda wc, input, attempt: runtime_for(input.log, 60) * attempt,
    params:
        nev=lambda wc: single_nev(wc)[0],
    script:
        "../scripts/unity.py"


rule edfsplit:
    input:
        eye=edfsplit_source,
        changed=changed_eye_navigation,
    output:
        out(f"{DAY_DIR}/{EDFSPLIT_NAME}"),
    log:
        "logs/edfsplit/{subject}/{day}.log",
    benchmark:
        "benchmarks/runs/edfsplit/{subject}/{day}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: mem_for(input.eye, factor=4) * attempt,
        runtime=lambda wc, input, attempt: runtime_for(input.eye, 30) * attempt,
    params:
        day_dir=day_raw_dir,
        sessions=day_session_names,
        eye=BEHAVIOUR["eye"],
    script:
        "../scripts/edfsplit.py"


rule eyelink:
    input:
        source=eyelink_source,
        rpl=out(f"{SESSION_DIR}/{RPLPARALLEL_NAME}"),
        changed=changed_eye_fixation,
    output:
        eyelink=temp(out(f"{SESSION_DIR}/.unaligned_{EYELINK_NAME}")),
        missing=out(f"{SESSION_DIR}/missingData.csv"),
    log:
        "logs/eyelink/{subject}/{day}/{session}.log",
    benchmark:
        "benchmarks/runs/eyelink/{subject}/{day}/{session}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: mem_for(input.source, factor=3) * attempt,
        runtime=lambda wc, input, attempt: runtime_for(input.source, 30) * attempt,
    params:
        day_dir=day_raw_dir,
        eye=BEHAVIOUR["eye"],
    script:
        "../scripts/eyelink.py"


rule align_unity:
    input:
        obj=out(f"{SESSION_DIR}/.unaligned_{UNITY_NAME}"),
        rpl=out(f"{SESSION_DIR}/{RPLPARALLEL_NAME}"),
    output:
        out(f"{SESSION_DIR}/{UNITY_NAME}"),
    log:
        "logs/align_unity/{subject}/{day}/{session}.log",
    benchmark:
        "benchmarks/runs/align_unity/{subject}/{day}/{session}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: mem_for(input.obj, factor=4) * attempt,
        runtime=lambda wc, attempt: 10 * attempt,
    params:
        kind="unity",
        threshold=BEHAVIOUR["align_threshold"],
    script:
        "../scripts/align.py"


rule align_eyelink:
    input:
        obj=out(f"{SESSION_DIR}/.unaligned_{EYELINK_NAME}"),
        rpl=out(f"{SESSION_DIR}/{RPLPARALLEL_NAME}"),
    output:
        out(f"{SESSION_DIR}/{EYELINK_NAME}"),
    log:
        "logs/align_eyelink/{subject}/{day}/{session}.log",
    benchmark:
        "benchmarks/runs/align_eyelink/{subject}/{day}/{session}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: mem_for(input.obj, factor=4) * attempt,
        runtime=lambda wc, attempt: 10 * attempt,
    params:
        kind="eyelink",
        threshold=BEHAVIOUR["align_threshold"],
    script:
        "../scripts/align.py"


rule raycast:
    input:
        unity=out(f"{SESSION_DIR}/{UNITY_NAME}"),
        eyelink=out(f"{SESSION_DIR}/{EYELINK_NAME}"),
    output:
        bindata=out(f"{SESSION_DIR}/{BINDATA_NAME}"),
        csv=out(f"{SESSION_DIR}/{GAZE_CSV_NAME}"),
    log:
        "logs/raycast/{subject}/{day}/{session}.log",
    benchmark:
        "benchmarks/runs/raycast/{subject}/{day}/{session}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: mem_for(input.eyelink, factor=10, base=600)
        * attempt,
        runtime=lambda wc, input, attempt: runtime_for(input.eyelink, 120) * attempt,
    params:
        radius_px=BEHAVIOUR["raycast_radius_px"],
        density=BEHAVIOUR["raycast_density"],
        threshold=BEHAVIOUR["align_threshold"],
    script:
        "../scripts/raycast.py"
