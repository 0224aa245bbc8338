# NWB export: one Neurodata Without Borders file per session (hippoflow/nwb/), written from
# the workflow's own outputs; which of them it reads follows the config (nwb.highpass,
# nwb.raw, behaviour.eyelink). Targets: Plan.nwb_targets() (nwb.enabled).
NWB = config["nwb"]
NWB_NAME = "{subject}_{day}_{session}.nwb"


def _nwb_channel_files(name):
    def files(wc):
        return [
            out(f"{wc.subject}/{wc.day}/{wc.session}/array{a}/channel{c}/{name}")
            for a, c in PLAN.channels(_session(wc))
        ]

    return files


def nwb_header(wc):
    """The recording's header (its time origin): the .ns5, else the .nev."""
    key = _session(wc)
    return (PLAN.ns5(key) or PLAN.nev(key))[:1]


def nwb_sort_files(wc):
    """Per day-channel of the session: its curated sort, then its cells.tsv."""
    return [
        out(f"{wc.subject}/{wc.day}/sort/array{a}/channel{c}/{name}")
        for a, c in PLAN.channels(_session(wc))
        for name in (CURATED_NAME, "cells.tsv")
    ]


def nwb_behaviour(wc):
    """Aligned Unity and EyeLink objects, the day's EDFSplit and the raycast, as planned."""
    key = _session(wc)
    sdir = f"{wc.subject}/{wc.day}/{wc.session}"
    files = {"unity": [], "eyelink": [], "edfsplit": [], "gaze": []}
    if key in {s.key for s in PLAN.unity_sessions()}:
        files["unity"] = [out(f"{sdir}/{UNITY_NAME}")]
    if key in {s.key for s in PLAN.eyelink_sessions()}:
        files["eyelink"] = [out(f"{sdir}/{EYELINK_NAME}")]
        if not _naming.is_fixation(wc.session):
            files["edfsplit"] = [out(PLAN.edfsplit_path(_day(wc)))]
            files["gaze"] = [out(f"{sdir}/{GAZE_CSV_NAME}")]
    return files


rule nwb:
    input:
        unpack(nwb_behaviour),
        header=nwb_header,
        rpl=out(f"{SESSION_DIR}/{RPLPARALLEL_NAME}"),
        lfp=session_lfps,
        highpass=_nwb_channel_files(HIGHPASS_NAME) if NWB["highpass"] else [],
        raw=_nwb_channel_files(RAW_NAME) if NWB["raw"] else [],
        sorts=nwb_sort_files,
    output:
        out(f"{SESSION_DIR}/{NWB_NAME}"),
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
        channels=lambda wc: PLAN.channels(_session(wc)),
        nwb=NWB,
    script:
        "../scripts/nwb.py"
