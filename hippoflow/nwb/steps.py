"""The NWB step, one per session (rule ``nwb``; ``scripts/nwb.py`` passes Snakemake's paths).

Inputs: the session's recording header (``.ns5``, else ``.nev``: its time origin only; for a
split session the ``.ns5``'s SHA-256 comes from the split's digest record ``ns5_digest``, so
the job reads no sample of the ``.ns5``: :func:`hippoflow.nwb.provenance.header_digest`), its
RPLParallel object, every channel's RPLLFP file (and RPLHighPass / RPLRaw files when
``nwb.highpass`` / ``nwb.raw``), per day-channel the curated sort and ``cells.tsv``, the
aligned Unity object, and with EyeLink the aligned EyeLink object, the day's EDFSplit
(navigation sessions) and the raycast's ``unityfile_eyelink.csv``.  Output:
``<session>/<subject>_<day>_<session>.nwb``, written to a temporary name and renamed when
complete.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from pynwb import NWBHDF5IO

from hippoflow import dpt
from hippoflow.atomic import atomic_output
from hippoflow.fields.outcome import MISSING, missing_note
from hippoflow.nwb import behaviour, ecephys, metadata, provenance, trials, units

log_ = logging.getLogger("hippoflow")


#: how the notes of a file without some day-channels' units begin
PARTIAL = "PARTIAL FILE"


def partial_note(failed: Mapping[tuple[str, str], str]) -> str:
    """The note of a file written without the units of the day-channels in ``failed``
    ((array, channel) -> why their sort failed)."""
    which = "; ".join(
        why if f"array{a} channel{c}" in why else f"array{a}/channel{c}: {why}"
        for (a, c), why in sorted(failed.items())
    )
    return (
        f"{PARTIAL}: no units of {len(failed)} channel(s) whose sort failed ({which}); the "
        "next run of the workflow redoes these sorts and replaces this file"
    )


def nwb(
    out_path,
    *,
    subject: str,
    day: str,
    session: str,
    header,
    rpl,
    ns5_digest=None,
    channels: Sequence[tuple[str, str]] = (),
    lfp: Sequence = (),
    highpass: Sequence = (),
    raw: Sequence = (),
    sorts: Sequence[tuple[str, str, str, str]] = (),
    fields: Mapping | None = None,
    unity=None,
    eyelink=None,
    edfsplit=None,
    gaze_csv=None,
    cfg: Mapping,
    config: Mapping | None = None,
    log=None,
) -> dict:
    """Write the session's NWB file; returns counts of what it holds.

    ``ns5_digest``: the split's record of the ``header`` file's SHA-256 (a session that is
    split); its digest is used, after checking it is still of the file as it is (else
    :class:`~hippoflow.errors.InputError`). Without it the header file is hashed here."""
    log = log or log_
    channels = [tuple(c) for c in channels]
    if len(lfp) != len(channels):
        raise ValueError(f"{len(lfp)} LFP files for {len(channels)} channels")
    known, sources = {}, {}
    if ns5_digest:
        known[str(header)] = provenance.header_digest(header, ns5_digest)
        sources[str(header)] = str(ns5_digest)
        log.info("%s: SHA-256 from the split's record %s (not read here)", header, ns5_digest)
    elif Path(header).suffix == ".ns5":
        log.info("%s: no split record (the session is not split): hashed here", header)
    level = int(cfg["compression_level"])
    start = metadata.recording_start(header)
    # unique per file, as NWB and DANDI want (two writes of a session are two files); the
    # session and its recording's SHA-256 are in the notes and the provenance record
    f = metadata.make_file(subject, day, session, start, cfg, str(uuid.uuid4()))
    # behaviour is cropped to the recording: 0 to the end of the session's Ripple data (its
    # LFP's length); a session without .ns5 has no known end and is not cropped
    span = (0.0, ecephys.recording_seconds(lfp[0])) if lfp else None
    notes = []
    inputs = [header, rpl, *lfp, *highpass, *raw]
    counts = {}
    rpl_obj = dpt.load_object(rpl)
    unity_obj = dpt.load_object(unity) if unity else None
    dubious = unity_obj.get("dubiousTrials", []) if unity_obj else []
    counts["trials"] = trials.add_trials(f, rpl_obj, session, dubious)
    stacks = []
    if channels:
        region = ecephys.add_electrodes(f, channels, cfg["electrode_location"])
        rows = {c: i for i, c in enumerate(channels)}
        stacks.append(ecephys.add_lfp(f, lfp, region, level))
        for kind, paths in (("highpass", highpass), ("raw", raw)):
            if paths:
                stacks.append(ecephys.add_acquisition(f, kind, paths, region, level))
        counts["channels"] = len(channels)
        failed: dict[tuple[str, str], str] = {}
        fields_failed: dict[tuple[str, str], str] = {}
        counts["units"] = units.add_units(f, session, sorts, rows, fields, failed, fields_failed)
        if fields_failed:
            missing = missing_note(fields_failed)
            notes.append(missing)
            log.warning("%s: %s", out_path, missing)
        if failed:
            partial = partial_note(failed)
            notes.append(partial)
            log.warning("%s: %s", out_path, partial)
            # per electrode: why its units are not in the file ('' when they are)
            f.electrodes.add_column(
                name="units_left_out",
                description="why this electrode's units are not in the file: its day-channel "
                "sort failed (the cause); empty when its units are in the file",
                data=[f"sort failed: {failed[c]}" if c in failed else "" for c in rows],
            )
        inputs += [p for s in sorts for p in s[2:]] + list((fields or {}).values())
    if unity_obj is not None:
        counts["unity_frames"] = behaviour.add_unity(f, unity_obj, unity, span=span)
        inputs.append(unity)
    if eyelink:
        edf = dpt.load_object(edfsplit) if edfsplit else None
        counts["gaze_samples"] = behaviour.add_eyelink(
            f, dpt.load_object(eyelink), session, edf, eyelink, span=span
        )
        inputs += [p for p in (eyelink, edfsplit) if p]
    if gaze_csv:
        counts["raycast_samples"] = behaviour.add_raycast(f, gaze_csv, span=span)
        inputs.append(gaze_csv)
    if span is not None and (unity_obj is not None or eyelink):
        notes.append(
            f"behaviour cropped to the session's recording, 0 to {span[1]:.3f} s (each series' "
            "description says what was left out)"
        )
    elif unity_obj is not None or eyelink:
        notes.append(
            "behaviour not cropped: the session has no .ns5, its recording's end is unknown"
        )
    rec = provenance.record(config or {"nwb": dict(cfg)}, inputs, known, sources)
    provenance.attach(f, rec)
    digest = rec["inputs"].get(str(header), "?")
    notes = [
        f"session {subject}_{day}_{session}; recording {Path(header).name}, SHA-256 {digest}",
        f"written by {rec['workflow']} from {len(rec['inputs'])} workflow files; config and "
        f"input digests in scratch/{provenance.SCRATCH_NAME}",
        *notes,
    ]
    for note in notes[2:]:
        log.info("%s", note)
    # a partial file (units or field values left out) says so first
    f.notes = "; ".join(sorted(notes, key=lambda n: not n.startswith((PARTIAL, MISSING))))
    f.was_generated_by = [[k, v] for k, v in rec["versions"].items()]
    out = Path(out_path)
    try:
        with atomic_output(out) as tmp:
            with NWBHDF5IO(str(tmp), "w") as io:
                io.write(f)
    finally:
        for s in stacks:
            s.close()
    log.info("%s: %s", out, ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts
