# Ripple steps: parallel-port markers, split into channels, LFP and high-pass.
from hippoflow.digests import NS5_RECORD as NS5_DIGEST_NAME


rule rplparallel:
    input:
        nev=single_nev,
        ns5=sibling_ns5,
        changed=changed_markers,
    output:
        out(f"{SESSION_DIR}/{RPLPARALLEL_NAME}"),
    log:
        "logs/rplparallel/{subject}/{day}/{session}.log",
    benchmark:
        "benchmarks/runs/rplparallel/{subject}/{day}/{session}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: mem_for(input.nev, factor=20) * attempt,
        runtime=lambda wc, attempt: 10 * attempt,
    params:
        args={},
    script:
        "../scripts/rplparallel.py"


for _i, (_chans, _rels) in enumerate(PLAN.channel_sets.items()):

    rule:
        name:
            "rplsplit" if _i == 0 else f"rplsplit_{_i + 1}"
        input:
            ns5=lambda wc: PLAN.ns5(tuple(wc.sp.split("/"))),
            nev=lambda wc: PLAN.pair_nev(tuple(wc.sp.split("/"))),
            changed=lambda wc: [
                out(t) for t in PLAN.changed_raw(tuple(wc.sp.split("/")))
            ],
        output:
            split=[
                intermediate(f"{{sp}}/array{a}/channel{c}/{RAW_NAME}", "split")
                for a, c in _chans
            ],
            # the .ns5's SHA-256, hashed while split (the provenance page reads it, not the
            # .ns5): in the output tree in every mode (docs/design/digest-records.md)
            digest=out(f"{{sp}}/{NS5_DIGEST_NAME}"),
        log:
            "logs/rplsplit/{sp}.log",
        benchmark:
            "benchmarks/runs/rplsplit/{sp}.tsv"
        wildcard_constraints:
            sp=(
                "|".join(_rels)
                if len(PLAN.channel_sets) > 1
                else f"{_naming.SUBJECT_RE}/{_naming.DAY_RE}/{_naming.SESSION_RE}"
            ),
        conda:
            "../envs/hippoflow.yaml"
        threads: 1
        resources:
            mem_mb=lambda wc, attempt: 1000 * attempt,
            runtime=lambda wc, input, attempt: runtime_for(input.ns5, 3) * attempt,
        params:
            channels=[int(c) for _, c in _chans],
            args=RAW_ARGS,
        script:
            "../scripts/rplsplit.py"

    # The LFP of every channel of a session in one job (a channel's LFP costs ~0.05 s per
    # channel-hour of CPU, far less than a job's start): 124 jobs a session fewer to plan and
    # to start, and each channel file handled and written on its own, as before.
    rule:
        name:
            "rpllfp" if _i == 0 else f"rpllfp_{_i + 1}"
        input:
            raw=[
                intermediate_path(f"{{sp}}/array{a}/channel{c}/{RAW_NAME}", "split")
                for a, c in _chans
            ],
        output:
            [out(f"{{sp}}/array{a}/channel{c}/{LFP_NAME}") for a, c in _chans],
        log:
            "logs/rpllfp/{sp}.log",
        benchmark:
            "benchmarks/runs/rpllfp/{sp}.tsv"
        wildcard_constraints:
            sp=(
                "|".join(_rels)
                if len(PLAN.channel_sets) > 1
                else f"{_naming.SUBJECT_RE}/{_naming.DAY_RE}/{_naming.SESSION_RE}"
            ),
        conda:
            "../envs/hippoflow.yaml"
        threads: 1
        resources:
            # one channel at a time in memory; every channel of the session read
            mem_mb=lambda wc, attempt: mem_of_mb(channel_mb(_sp_key(wc)), 0.3) * attempt,
            runtime=lambda wc, attempt: runtime_of_mb(session_split_mb(_sp_key(wc)), 5)
            * attempt,
        params:
            args=LFP_ARGS,
        script:
            "../scripts/rpllfp.py"


rule rplhighpass:
    input:
        raw=intermediate_path(f"{CHANNEL_DIR}/{RAW_NAME}", "split"),
    output:
        intermediate(f"{CHANNEL_DIR}/{HIGHPASS_NAME}", "highpass"),
    log:
        "logs/rplhighpass/{subject}/{day}/{session}/{array}/{channel}.log",
    benchmark:
        "benchmarks/runs/rplhighpass/{subject}/{day}/{session}/{array}/{channel}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        # the forward pass (4 bytes a sample, ~ the uncompressed input) is held in memory so
        # that the output is written once; a smaller budget puts it on node-local scratch
        mem_mb=lambda wc, attempt: mem_of_mb(channel_mb(_session(wc)), 1.1) * attempt,
        runtime=lambda wc, attempt: runtime_of_mb(channel_mb(_session(wc)), 10)
        * attempt,
    params:
        args=HIGHPASS_ARGS,
    script:
        "../scripts/rplhighpass.py"
