# NWB export: one Neurodata Without Borders file per session (hippoflow/nwb/), written from
# the workflow's own outputs; which of them it reads follows the plan and the config
# (hippoflow/nwb/inputs.py: nwb.highpass, nwb.raw, behaviour.eyelink). Targets:
# Plan.nwb_targets() (nwb.enabled).
from hippoflow.nwb.inputs import NwbInputs as _NwbInputs

NWB = config["nwb"]
# the 30 kHz series are read from the output tree: they must be kept there
for _kind, _key in (("highpass", "keep_highpass"), ("raw", "keep_split")):
    if NWB[_kind] and (NODE_LOCAL_DIR or not INTERMEDIATES[_key]):
        raise WorkflowError(
            f"hippoflow: nwb.{_kind} needs the {_kind} files kept on the output tree, but "
            f"intermediates has {_key}: {INTERMEDIATES[_key]}, node_local_dir: "
            f"{NODE_LOCAL_DIR} (turn nwb.{_kind} off, or keep the files)"
        )
NWB_IN = _NwbInputs(PLAN, out, CURATED_NAME)


rule nwb:
    input:
        unpack(NWB_IN.behaviour),
        # the .ns5 (else the .nev): only its header's time origin is read
        header=NWB_IN.header,
        # the .ns5's SHA-256 for the file's provenance, from the split (docs/outputs.md, "NWB files")
        ns5_digest=NWB_IN.ns5_digest,
        rpl=out(f"{SESSION_DIR}/{RPLPARALLEL_NAME}"),
        lfp=session_lfps,
        highpass=NWB_IN.channel_files(HIGHPASS_NAME) if NWB["highpass"] else [],
        raw=NWB_IN.channel_files(RAW_NAME) if NWB["raw"] else [],
        sorts=NWB_IN.sorts,
        # each day-channel's place/view information and p-values (rule fields)
        fields=NWB_IN.fields,
    output:
        out(f"{SESSION_DIR}/{{subject}}_{{day}}_{{session}}.nwb"),
    log:
        "logs/nwb/{subject}/{day}/{session}.log",
    benchmark:
        "benchmarks/runs/nwb/{subject}/{day}/{session}.tsv"
    conda:
        "../envs/hippoflow.yaml"
    threads: 1
    resources:
        # the series are streamed (a 0.1 GB buffer): memory does not grow with their length
        mem_mb=lambda wc, input, attempt: mem_for(
            list(input.sorts) + list(input.eyelink) + list(input.edfsplit),
            factor=4,
            base=900,
        )
        * attempt,
        runtime=lambda wc, input, attempt: runtime_for(
            list(input.lfp) + list(input.highpass) + list(input.raw), 30
        )
        * attempt,
    params:
        channels=lambda wc: PLAN.channels((wc.subject, wc.day, wc.session)),
        nwb=NWB,
    script:
        "../scripts/nwb.py"
