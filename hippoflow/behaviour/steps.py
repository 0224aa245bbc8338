"""File-level behaviour steps, one function per rule of ``rules/behaviour.smk``: ``unity``,
``edfsplit``, ``eyelink``, ``align_unity``, ``align_eyelink``, ``raycast``.

Each function reads its input files, calls the computation in :mod:`hippoflow.behaviour.unity`,
:mod:`hippoflow.behaviour.eyelink`, :mod:`hippoflow.behaviour.align` and :mod:`hippoflow.behaviour.raycast.kernels`, and writes
its outputs atomically; the scripts in ``scripts/`` only pass Snakemake's paths through.

Object file names follow PyHipp's default arguments (DataProcessingTools hashes them):
``unity_71bf.hkl``, ``edfsplit_c1fa.hkl`` (day), ``eyelink_24d5.hkl``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from hippoflow import digests, dpt
from hippoflow.behaviour import align as alignment
from hippoflow.behaviour import unity as unity_log
from hippoflow.errors import InputError
from hippoflow.naming import (
    EDFSPLIT_ARGS,
    EYELINK_ARGS,
    FIXATION_SESSION,
    SESSION_START_CODES,
    UNITY_ARGS,
    session_order,
)

log_ = logging.getLogger("hippoflow")


# ---------------------------------------------------------------------------------------
# Finding the raw files


def expected_navigation_name(day: str) -> str:
    yymmdd = day[2:] if len(day) == 8 else day
    return f"{yymmdd}.edf (or {yymmdd}.asc)"


def _one_file(files, day_dir, what, expected) -> Path:
    if not files:
        raise InputError(
            f"{Path(day_dir) / expected}: missing: no {what} EyeLink file in {day_dir} "
            f"(expected {expected})"
        )
    if len(files) > 1:
        names = ", ".join(Path(p).name for p in files)
        raise InputError(f"{day_dir}: {len(files)} {what} EyeLink files ({names}); expected one")
    return Path(files[0])


def navigation_sessions(session_names) -> list[str]:
    """Navigation sessions of a day in recording order (all but the fixation session)."""
    return [s for s in session_order(session_names) if s != FIXATION_SESSION]


# ---------------------------------------------------------------------------------------
# Unity


def unity(log_path, rpl_path, out_path, nev=None, log=log_) -> dict:
    """Unity object (unaligned: Unity's own clock) from a log and the session's rplparallel
    (made from ``nev``, which error messages name)."""
    rpl = dpt.load_object(rpl_path)
    ulog = unity_log.read_log(log_path)
    obj = unity_log.unity_object(ulog, rpl["timeStamps"], nev or rpl_path)
    for note in obj["notes"]:
        log.warning("%s", note)
    n = obj["unityTriggers"][0].shape[0]
    dd = np.abs(obj["durationDiff"][0])
    log.info(
        "%s: %s header, %d frames, %d trials; |Unity - Ripple| trial duration: median %.1f ms, "
        "max %.1f ms",
        log_path,
        ulog.header_style,
        ulog.data.shape[0],
        n,
        float(np.median(dd)),
        float(dd.max()),
    )
    out_path = Path(out_path)
    dpt.save_object(out_path, obj, UNITY_ARGS, dirs=[out_path.parent.resolve()])
    # what the session's Unity objects were made from (compared at the next planning)
    digests.record_file(log_path, out_path.parent / digests.UNITY_RECORD)
    return obj


# ---------------------------------------------------------------------------------------
# EDFSplit and Eyelink

EDFSPLIT_LEVEL = "day"  # DPT level of the EDFSplit object
EVENT_TYPES = ("fixation", "saccade", "blink")  # the events table's ``type`` (pyedfread's)


def _str_array(v):
    """Strings as a numpy array; an empty list stays a list (hickle cannot load an empty
    string array back)."""
    return np.array(v, dtype=str) if len(v) else []


def _sample_columns(eye: str) -> list[str]:
    return ["time", f"gx_{eye}", f"gy_{eye}", f"pa_{eye}"]


def recording_to_dict(rec) -> dict:
    """A :class:`hippoflow.behaviour.eyelink.recording.Recording` as PyHipp's EDFSplit tables.

    ``samples`` (DataFrame: ``time`` tracker ms, ``gx_<eye>``, ``gy_<eye>`` pixels,
    ``pa_<eye>`` pupil), ``messages`` (``time`` ms, ``message`` text) and ``events``
    (``type`` fixation/saccade/blink, ``start``, ``end`` ms, ``gavx``, ``gavy`` the mean
    gaze of a fixation, NaN otherwise; in time order), with pyedfread's column names as
    PyHipp's tables had them; the rest of the recording as plain values.
    """
    from hippoflow.behaviour.eyelink.objects import object_labels

    samples = pd.DataFrame(
        np.column_stack([rec.samples_time, rec.gx, rec.gy, rec.pupil]).astype(np.float64),
        columns=object_labels(_sample_columns(rec.eye)),
    )
    messages = pd.DataFrame(
        {
            "time": np.array([t for t, _ in rec.messages], dtype=np.float64),
            "message": pd.Series([s for _, s in rec.messages], dtype=object),
        }
    )
    messages.columns = object_labels(messages.columns)
    fix = np.asarray(rec.fixations, dtype=np.float64).reshape(-1, 4)
    parts = [(EVENT_TYPES[0], fix)]
    for kind, ev in zip(EVENT_TYPES[1:], (rec.saccades, rec.blinks), strict=True):
        ev = np.asarray(ev, dtype=np.float64).reshape(-1, 2)
        parts.append((kind, np.column_stack([ev, np.full((ev.shape[0], 2), np.nan)])))
    table = np.concatenate([p for _, p in parts]).reshape(-1, 4)
    types = np.concatenate([np.full(p.shape[0], k, dtype=object) for k, p in parts])
    order = np.argsort(table[:, 0], kind="stable")
    events = pd.DataFrame(
        {
            "type": pd.Series(types[order].astype(object), dtype=object),
            "start": table[order, 0],
            "end": table[order, 1],
            "gavx": table[order, 2],
            "gavy": table[order, 3],
        }
    )
    events.columns = object_labels(events.columns)
    return {
        "samples": samples,
        "messages": messages,
        "events": events,
        "blocks": np.array(rec.blocks, dtype=np.float64).reshape(-1, 2),
        "header": _str_array(rec.header),
        "notes": [str(x) for x in rec.notes],
        "path": str(rec.path),
        "eye": str(rec.eye),
        "format": str(rec.format),
        "sampling_rate": float(rec.sampling_rate),
        "file_start_ms": np.array([] if rec.file_start_ms is None else [rec.file_start_ms]),
        "session_index": int(rec.session_index),
        "n_sessions": int(rec.n_sessions),
        "bounds": np.array(rec.bounds, dtype=np.float64),
    }


def recording_from_dict(d: dict):
    """The Recording of :func:`recording_to_dict`'s tables."""
    from hippoflow.behaviour.eyelink.recording import Recording

    eye = str(d["eye"])
    s = np.asarray(d["samples"][_sample_columns(eye)], dtype=np.float64).reshape(-1, 4)
    m = d["messages"]
    ev = d["events"]
    kinds = np.asarray(ev["type"], dtype=object)
    table = np.asarray(ev[["start", "end", "gavx", "gavy"]], dtype=np.float64).reshape(-1, 4)
    by_kind = {k: table[kinds == k] for k in EVENT_TYPES}
    start = np.asarray(d.get("file_start_ms", []), dtype=np.float64).ravel()
    b = np.asarray(d["bounds"], dtype=np.float64).ravel()
    return Recording(
        path=str(d["path"]),
        samples_time=s[:, 0],
        gx=s[:, 1],
        gy=s[:, 2],
        pupil=s[:, 3],
        sampling_rate=float(d["sampling_rate"]),
        messages=[
            (float(t), str(text))
            for t, text in zip(
                np.asarray(m["time"], dtype=np.float64).tolist(),
                np.asarray(m["message"], dtype=object).tolist(),
                strict=True,
            )
        ],
        fixations=by_kind["fixation"],
        saccades=by_kind["saccade"][:, :2],
        blinks=by_kind["blink"][:, :2],
        blocks=[tuple(float(x) for x in r) for r in np.asarray(d["blocks"]).reshape(-1, 2)],
        eye=eye,
        format=str(d["format"]),
        header=[str(x) for x in np.asarray(d.get("header", [])).ravel().tolist()],
        file_start_ms=float(start[0]) if start.size == 1 else None,
        session_index=int(d["session_index"]),
        n_sessions=int(d["n_sessions"]),
        bounds=(float(b[0]), float(b[1])),
        notes=[str(x) for x in np.asarray(d.get("notes", [])).ravel().tolist()],
    )


def _log_eye(rec, eye, log) -> None:
    """Which eye's gaze the recording gives (the reader already warned of a fallback)."""
    log.info(
        "%s: gaze and events of the %s eye (eye: %s asked)%s",
        rec.path,
        rec.eye,
        eye,
        "" if rec.eye == eye else f": the recording has no {eye} eye",
    )


def edfsplit(sources, day_dir, day, sessions, out_path, log=log_, *, eye="left") -> dict:
    """EDFSplit: the day's navigation EyeLink file, and where each navigation session lies.

    The object keeps PyHipp's ``samples``, ``messages`` and ``events`` tables (the whole
    file: :func:`recording_to_dict`), ``timeouts`` (Series of the ``Timeout`` message times,
    tracker ms), ``noOfTrials`` (``Start Trial`` messages in the file), ``noOfSessions``
    (sessions found), ``actualSessionNo`` (session folders), ``esr`` (Hz), ``expTime`` (s)
    and, per navigation session, ``sessions[name]`` = ``bounds`` (the [T_k, T_k+1) limits,
    ms) and ``samples`` (its [first, end) rows of the samples table); the Eyelink step cuts
    the session out again with :func:`split_navigation`.  DPT bookkeeping: ``numSets`` 1,
    ``setidx`` empty (EDFSplit plots nothing, as PyHipp's), ``plotopts``, ``current_idx``.

    ``eye`` (config ``behaviour.eye``): the eye whose gaze and events are kept where both
    were recorded.
    """
    from hippoflow.behaviour.eyelink.objects import save_object, series
    from hippoflow.behaviour.eyelink.sessions import (
        navigation_trial_messages,
        split_navigation,
        trigger_times,
    )
    from hippoflow.behaviour.eyelink.sniff import read_recording

    src = _one_file(sources, day_dir, "navigation", expected_navigation_name(day))
    nav = navigation_sessions(sessions)
    rec = read_recording(src, eye=eye)
    _log_eye(rec, eye, log)
    parts = split_navigation(rec, len(nav))
    trials = navigation_trial_messages(rec)
    rate = float(rec.sampling_rate)
    obj = {
        **recording_to_dict(rec),
        "source": str(src),
        "esr": int(rate) if rate.is_integer() else rate,
        "expTime": float(rec.file_start_ms or 0) / 1000.0,
        "timeouts": series([t for t, col, code, _ in trials if col == 2 and code // 10 == 4]),
        "noOfTrials": sum(1 for _, col, _, _ in trials if col == 0),
        "noOfSessions": len(parts),
        "actualSessionNo": len(nav),
        "sessionNames": nav,
        "triggerTimes": np.array(trigger_times(rec), dtype=np.float64) / 1000.0,
        "sessions": {
            name: {
                "bounds": np.array(p.bounds, dtype=np.float64),
                "samples": np.searchsorted(rec.samples_time, p.bounds, "left").astype(np.int64),
            }
            for name, p in zip(nav, parts, strict=True)
        },
        **dpt.bookkeeping(EDFSPLIT_LEVEL, n_items=0),
    }
    for name, p in zip(nav, parts, strict=True):
        log.info("%s: %s: %d samples, %d messages", src, name, p.samples_time.size, len(p.messages))
    out_path = Path(out_path)
    save_object(out_path, obj, EDFSPLIT_ARGS, dirs=[out_path.parent.resolve()])
    digests.record_file(src, out_path.parent / digests.EYELINK_RECORD)
    return obj


def split_session(split: dict, session: str, path="<edfsplit>"):
    """One navigation session's Recording from the day's EDFSplit object."""
    from hippoflow.behaviour.eyelink.sessions import split_navigation

    if not isinstance(split.get("samples"), pd.DataFrame):
        raise InputError(
            f"{path}: an edfsplit object without PyHipp's samples table (made by an older "
            f"hippoflow): remake it (snakemake --forcerun edfsplit)"
        )
    names = [str(s) for s in split["sessionNames"]]
    if session not in names:
        raise InputError(
            f"{path}: has no navigation session {session} (it holds {', '.join(names)})"
        )
    whole = recording_from_dict(split)
    return split_navigation(whole, len(names))[names.index(session)]


def eyelink(
    source, rpl_path, session, out_path, missing_csv, *, day_dir=None, log=log_, eye="left"
) -> dict:
    """Eyelink object (unaligned: tracker clock) of one session, and its missingData.csv.

    ``source``: the day's ``edfsplit`` object (navigation) or the ``P*`` file (fixation);
    an empty list means the file is missing (an error naming the expected file).  ``eye``
    (config ``behaviour.eye``) is the eye read from the fixation file; a navigation
    session keeps the eye its edfsplit object was made with.  Returns the object as stored
    (:func:`hippoflow.behaviour.eyelink.objects.eyelink_object`: PyHipp's containers).
    """
    from hippoflow.behaviour.eyelink.objects import eyelink_object, save_object, session_object
    from hippoflow.behaviour.eyelink.sessions import write_missing_csv
    from hippoflow.behaviour.eyelink.sniff import read_recording

    fixation = session == FIXATION_SESSION
    rpl = dpt.load_object(rpl_path)
    if fixation:
        src = _one_file(source, day_dir, "fixation", "P<n>_<m>.edf (or .asc)")
        rec = read_recording(src, eye=eye)
        _log_eye(rec, eye, log)
    else:
        if not source:
            raise InputError(f"{day_dir}: no edfsplit object for {session}")
        rec = split_session(dpt.load_object(source[0]), session, source[0])
        log.info("%s: gaze and events of the %s eye (as edfsplit read them)", session, rec.eye)
    start = None
    raw = np.asarray(rpl.get("rawMarkers", []), dtype=np.float64).ravel()
    if raw.size and int(raw[0]) in SESSION_START_CODES:
        start = float(rpl["sessionStartTime"])
    obj = session_object(
        rec,
        rpl["markers"],
        rpl["timeStamps"],
        fixation=fixation,
        ripple_session_start=start,
        session=session,
    )
    for row in obj["missing"]:
        log.warning(
            "%s: trial %d %s message missing from EyeLink; filled at %.3f ms (%s)",
            session,
            row["Trial"],
            row["Event"],
            row["Timestamps"],
            row["Messages"],
        )
    log.info(
        "%s: %d samples, %d trials, %d missing messages, max discrepancy %.1f ms",
        session,
        obj["timestamps"].size,
        obj["noOfTrials"],
        len(obj["missing"]),
        float(np.max(obj["discrepancies"])) * 1000.0 if np.size(obj["discrepancies"]) else 0.0,
    )
    write_missing_csv(missing_csv, obj["missing"])
    stored = eyelink_object(obj, fixation)
    out_path = Path(out_path)
    save_object(out_path, stored, EYELINK_ARGS, dirs=[out_path.parent.resolve()])
    if fixation:  # (a navigation session's file is recorded by edfsplit, in the day folder)
        digests.record_file(src, out_path.parent / digests.EYELINK_RECORD)
    return stored


# ---------------------------------------------------------------------------------------
# Alignment


def align(kind, obj_path, rpl_path, out_path, threshold=alignment.THRESHOLD_S, log=log_):
    """Align an unaligned Unity or Eyelink object onto Ripple time; write the final object."""
    obj = dpt.load_object(obj_path)
    rpl = dpt.load_object(rpl_path)
    label = str(obj_path)
    if kind == "unity":
        out = alignment.align_unity(obj, rpl, threshold=threshold, label=label)
        args = UNITY_ARGS
    elif kind == "eyelink":
        from hippoflow.behaviour.eyelink.objects import pyhipp_containers

        out = pyhipp_containers(alignment.align_eyelink(obj, rpl, label=label))
        args = EYELINK_ARGS
    else:
        raise ValueError(f"align: unknown kind {kind!r}")
    s = alignment.summary(out, rpl, kind)
    out["alignSummary"] = s
    log.info(
        "%s aligned onto Ripple: markers within %.3f ms; residuals before alignment: "
        "median %.2f ms, max %.2f ms",
        kind,
        s["max_marker_error_ms"],
        s["median_abs_residual_ms"],
        s["max_abs_residual_ms"],
    )
    resid = np.asarray(out.get("alignResiduals", np.zeros((0, 3))))
    for i, row in enumerate(resid):
        if np.any(np.abs(row) > threshold * 1000.0):
            log.warning(
                "%s trial %d: interval residuals (prev->start, start->cue, cue->end) %s ms",
                kind,
                i + 1,
                ", ".join(f"{v:.1f}" for v in row),
            )
    if kind == "unity":
        if s["dubious_trials"]:
            log.warning(
                "dubious Unity trials (|Unity - Ripple| > %.0f ms in total; frames flattened): %s",
                threshold * 1000.0,
                ", ".join(map(str, s["dubious_trials"])),
            )
        else:
            log.info("no dubious Unity trials (threshold %.0f ms)", threshold * 1000.0)
    out_path = Path(out_path)
    out.pop("args", None)
    out.pop("dirs", None)
    if kind == "eyelink":
        from hippoflow.behaviour.eyelink.objects import save_object

        save_object(out_path, out, args, dirs=[out_path.parent.resolve()])
    else:
        dpt.save_object(out_path, out, args, dirs=[out_path.parent.resolve()])
    return out


def align_unity(obj_path, rpl_path, out_path, threshold=alignment.THRESHOLD_S, log=log_):
    """Rule align_unity: the final Unity object on the Ripple clock."""
    return align("unity", obj_path, rpl_path, out_path, threshold, log=log)


def align_eyelink(obj_path, rpl_path, out_path, threshold=alignment.THRESHOLD_S, log=log_):
    """Rule align_eyelink: the final Eyelink object on the Ripple clock."""
    return align("eyelink", obj_path, rpl_path, out_path, threshold, log=log)


# ---------------------------------------------------------------------------------------
# Raycast


def gaze_table(uobj: dict, eobj: dict, threshold=alignment.THRESHOLD_S) -> dict:
    """Per EyeLink sample: time, gaze, camera pose (last Unity frame shown), flags.

    ``ignore`` marks samples with no Unity frame yet, NaN gaze, samples inside a dubious
    Unity trial and samples in any marker interval whose Unity or EyeLink timing disagreed
    with Ripple by more than ``threshold``; ``cue_on`` marks start->cue offset periods.
    """
    t = np.asarray(eobj["timestamps"], dtype=np.float64)
    eye = np.asarray(eobj["eye_pos"], dtype=np.float64).reshape(-1, 2)
    ut = np.asarray(uobj["unityTime"][0], dtype=np.float64)
    data = np.asarray(uobj["unityData"][0], dtype=np.float64)
    frame_t = ut[1:]
    idx = np.searchsorted(frame_t, t, side="right") - 1
    valid = (idx >= 0) & (t <= frame_t[-1] + 0.1)
    idx_c = np.clip(idx, 0, data.shape[0] - 1)
    x = np.where(valid, data[idx_c, 2], np.nan)
    z = np.where(valid, data[idx_c, 3], np.nan)
    yaw = np.where(valid, data[idx_c, 4], np.nan)
    trig = np.asarray(uobj["unityTriggers"][0], dtype=np.int64)
    knots = ut[trig + 1].ravel()  # Ripple times of start, cue, end, start ...
    bad = np.zeros(knots.size, dtype=bool)  # interval ending at knot j is mis-timed
    for key_obj in (uobj, eobj):
        r = np.asarray(key_obj.get("alignResiduals", np.zeros((0, 3))), dtype=np.float64)
        if r.size == knots.size:
            bad |= np.abs(r.ravel()) > threshold * 1000.0
    j = np.searchsorted(knots, t, side="left")  # sample in interval (knot j-1, knot j]
    ignore = ~valid | np.isnan(eye).any(axis=1)
    inside = (j > 0) & (j < knots.size)
    ignore[inside] |= bad[j[inside]]
    for trial in np.asarray(uobj.get("dubiousTrials", []), dtype=np.int64).ravel():
        a, b = knots[3 * (trial - 1)], knots[3 * (trial - 1) + 2]
        ignore |= (t >= a) & (t <= b)
    starts, cues = knots[0::3], knots[1::3]
    k = np.searchsorted(starts, t, side="right") - 1
    cue_on = (k >= 0) & (t < cues[np.clip(k, 0, cues.size - 1)])
    return {
        "time": t,
        "gx": eye[:, 0],
        "gy": eye[:, 1],
        "x": x,
        "z": z,
        "yaw": yaw,
        "ignore": ignore,
        "cue_on": cue_on,
    }


def raycast(
    unity_path,
    eyelink_path,
    bindata_path,
    csv_path,
    radius_px=20,
    density=220,
    threshold=alignment.THRESHOLD_S,
    log=log_,
    progress=None,
) -> dict:
    """Gaze onto the maze for one session: binData.hdf and unityfile_eyelink.csv."""
    from hippoflow.behaviour.raycast import kernels, outputs

    uobj = dpt.load_object(unity_path)
    eobj = dpt.load_object(eyelink_path)
    for path, o in ((unity_path, uobj), (eyelink_path, eobj)):
        if not o.get("aligned", False):
            raise InputError(f"{path}: not aligned onto the Ripple clock (run align first)")
    table = gaze_table(uobj, eobj, threshold)
    n = table["time"].size
    log.info(
        "%d gaze samples, %d ignored (off screen, no frame, or mis-timed segments); "
        "disc radius %g px, density %g",
        n,
        int(table["ignore"].sum()),
        radius_px,
        density,
    )
    bins = kernels.cast_distinct(
        table["gx"],
        table["gy"],
        table["x"],
        table["z"],
        table["yaw"],
        radius_px=radius_px,
        density=density,
        ignore=table["ignore"],
        cue_on=table["cue_on"],
        progress=progress,
    )
    outputs.write_bindata(bindata_path, table["time"], bins)
    outputs.write_unityfile_eyelink(csv_path, table)
    return {"samples": n, "ignored": int(table["ignore"].sum()), "max_bins": bins.shape[1]}
