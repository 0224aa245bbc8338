"""File-level Ripple steps, one function per rule of ``rules/ripple.smk``: ``rplparallel``,
``rplsplit``, ``rpllfp``, ``rplhighpass`` (the scripts and benchmarks call these).

Inputs: a session's ``.nev``/``.ns5``, or a channel's ``rplraw`` file. Outputs: DPT objects
written atomically (and the split's record of the .ns5's SHA-256, taken while reading it:
:mod:`hippoflow.digests`); channel data are read and written slice by slice, so memory stays
bounded by the chunk size whatever the recording length.
"""

from __future__ import annotations

import logging
import os
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from hippoflow import digests, dpt
from hippoflow.errors import InputError
from hippoflow.logs import Progress
from hippoflow.ripple import markers, nev, nsx, split

log = logging.getLogger(__name__)

SPLIT_BUDGET = 1 << 24  # values (samples x channels) per streaming step of the split
# RPLRaw, RPLLFP and RPLHighPass are channel objects: one plotted item (setidx [0]) each
CHANNEL_LEVEL = "channel"


def rplparallel(nev_path, ns5_path, out_path, args, log=log) -> dict:
    """RPLParallel: the session's trial markers from its .nev (pair-checked with its .ns5).

    With the session's .ns5 (``ns5_path`` may be None), trials whose markers lie after the
    end of its data are named in a warning (the markers are kept: they are what the port
    recorded; the neural data just stop earlier).
    """
    nev.check_pair(nev_path, ns5_path)
    codes, times = nev.read_nev_events(nev_path)
    obj = markers.arrange_markers(codes, times, nev_path)
    n, k = obj["markers"].shape
    log.info("%s: %d events, %d trials x %d markers", nev_path, codes.size, n, k)
    if ns5_path is not None:
        _warn_trials_past_ns5(obj["timeStamps"], ns5_path, log)
    out = Path(out_path)
    dpt.save_object(out, obj, args, dirs=[out.parent.resolve()])
    # what the markers were made from, compared with the .nev at the next planning
    digests.record_file(nev_path, out.parent / digests.NEV_RECORD)
    return obj


def ns5_data_end(ns5_path) -> float:
    """Time (s, Ripple clock) just after the last sample of an .ns5's data blocks."""
    header = nsx.read_nsx_header(ns5_path)
    blocks = nsx.nsx_data_blocks(header)
    return max(b.timestamp / header.resolution + b.n_samples / header.sampling_rate for b in blocks)


def _warn_trials_past_ns5(timestamps, ns5_path, log) -> None:
    """Warn when trial markers lie after the end of the session's .ns5 data."""
    try:
        end = ns5_data_end(ns5_path)
    except InputError as exc:  # the .ns5's own jobs report it; the markers do not need it
        log.warning("%s; trial times not compared with the .ns5 data", exc)
        return
    last = np.asarray(timestamps, dtype=np.float64).max(axis=1)
    past = np.flatnonzero(last > end)
    if past.size:
        log.warning(
            "%s: data end at %.3f s, before the .nev's last trial marker at %.3f s "
            "(trials %d.. past the end)",
            ns5_path,
            end,
            float(last.max()),
            int(past[0]) + 1,
        )
    else:
        log.info("%s: data end at %.3f s, after the last trial marker", ns5_path, end)


def rplsplit(
    ns5_files,
    nev_path,
    electrode_ids,
    outputs,
    args=None,
    progress=True,
    compression="none",
    record=None,
) -> dict:
    """RPLSplit: one pass over the session's .ns5 writing each channel's rplraw file.

    ``compression`` (``split_compression``): ``none`` (PyHipp's layout), ``gzip`` or
    ``scaleoffset`` (:func:`hippoflow.ripple.split.split_filters`); every HDF5 reader reads
    the values unchanged.  The .ns5's SHA-256 is taken from the bytes the pass reads
    (:mod:`hippoflow.digests`); with ``record`` (a path) its record is written there, after
    the channel files.  Returns the record (path as given, size, mtime_ns, sha256)."""
    header, blocks = split.open_session_ns5(list(ns5_files), nev_path)
    n = sum(b.n_samples for b in blocks)
    log.info(
        "%s: %d channels in header, %d data block(s), %d samples (%.1f s) at %g Hz",
        header.path,
        len(header.channels),
        len(blocks),
        n,
        n / header.sampling_rate,
        header.sampling_rate,
    )
    if header.non_electrodes():
        log.info("not electrodes, not split: %s", nsx.describe_channels(header.non_electrodes()))
    ids = list(electrode_ids)
    paths = dict(zip(ids, map(Path, outputs), strict=True))
    # samples per streaming step: a power of two within the budget, also the HDF5 chunk length,
    # so every write fills whole chunks and no chunk cache is needed
    chunk = 1 << max(15, (SPLIT_BUDGET // max(1, len(header.channels))).bit_length() - 1)
    chans = [header.channels[header.channel_index(e)] for e in ids]
    filters_, how = split.split_filters(
        compression, [c.gain or 0.0 for c in chans], [c.offset or 0.0 for c in chans]
    )
    log.info("split files: %s", how)
    with ExitStack() as stack:
        objects = {}
        for e in ids:
            ch = header.channels[header.channel_index(e)]
            info = split.channel_info(ch, header.sampling_rate, n, 0.0, 0.0)
            objects[e] = stack.enter_context(
                dpt.StreamedObject(
                    paths[e],
                    "data",
                    n,
                    np.float32,
                    {"analogInfo": info, **dpt.bookkeeping(CHANNEL_LEVEL)},
                    args or {},
                    dirs=[paths[e].parent.resolve()],
                    chunk=chunk,
                    cache_bytes=0,
                    filters=filters_,
                )
            )

        def sink(e, start, values):
            objects[e].dataset[start : start + values.size] = values

        digest = {}
        extremes = split.split_stream(
            header,
            blocks,
            ids,
            sink,
            chunk=chunk,
            progress=Progress(log, "split") if progress else None,
            digest=digest.update,
        )
        for e, (lo, hi) in extremes.items():
            objects[e].set_value("analogInfo", "MinVal", value=lo)
            objects[e].set_value("analogInfo", "MaxVal", value=hi)
        for obj in objects.values():
            obj.commit()
    log.info("wrote %d channel files", len(ids))
    digest["path"] = str(ns5_files[0])  # as given (the provenance page matches it so)
    log.info(
        "%s: sha256 %s (%d bytes, mtime_ns %d; hashed while split)",
        digest["path"],
        digest["sha256"],
        digest["size"],
        digest["mtime_ns"],
    )
    if record is not None:
        digests.write_record(record, digest)
    return digest


def rpllfp(raw_path, out_path, args) -> None:
    """RPLLFP of one channel file."""
    from hippoflow.ripple import filters  # scipy.signal: ~1.7 s a start, not for the split

    info = dpt.read_flat_dict(raw_path, "analogInfo")
    raw = dpt.open_array(raw_path)
    try:
        n = raw.shape[0]
        log.info("%s: %d samples at %g Hz", raw_path, n, info["SampleRate"])
        data = filters.lowpass(
            n,
            lambda s, e: raw[s:e],
            info["SampleRate"],
            args["ResampleRate"],
            args["LFPOrder"],
            args["LowPassFrequency"],
            where=raw_path,
        )
    finally:
        raw.file.close()
    out = Path(out_path)
    info = filters.derived_info(
        info, data, args["ResampleRate"], args["LowPassFrequency"], args["LFPOrder"], "lfp"
    )
    obj = {"data": data, "analogInfo": info, **dpt.bookkeeping(CHANNEL_LEVEL)}
    dpt.save_object(out, obj, args, dirs=[out.parent.resolve()])


def rpllfp_session(raw_paths, out_paths, args, log=log) -> None:
    """RPLLFP of each channel file of a session (the rule's one job per session), in order;
    each channel's file is written on its own (atomically), as by :func:`rpllfp`."""
    if len(raw_paths) != len(out_paths):
        raise ValueError(f"{len(raw_paths)} channel files but {len(out_paths)} LFP outputs")
    progress = Progress(log, "LFP of the session's channels")
    for k, (raw_path, out_path) in enumerate(zip(raw_paths, out_paths, strict=True)):
        rpllfp(raw_path, out_path, args)
        progress((k + 1) / len(raw_paths))


# memory a high-pass job needs besides its forward-pass buffer: interpreter, libraries and
# the chunk buffers (measured peak RSS with the buffer subtracted: ~250 MB)
HIGHPASS_OVERHEAD_MB = 400


def highpass_buffer(n: int, memory_mb: float | None, scratch_dir=None, stack=None):
    """The float32 forward-pass buffer of a high-pass of ``n`` samples: in memory when it fits
    the job's ``memory_mb`` (None = no limit) with :data:`HIGHPASS_OVERHEAD_MB` to spare, else
    a memory-mapped file on node-local scratch (:func:`hippoflow.scratch.scratch_root`),
    removed when ``stack`` closes.  Returns (array, where: "memory" or the file's path)."""
    need_mb = 4 * n / 1e6 + HIGHPASS_OVERHEAD_MB
    if memory_mb is None or need_mb <= float(memory_mb):
        return np.empty(n, dtype=np.float32), "memory"
    import tempfile

    from hippoflow.scratch import scratch_root

    fd, name = tempfile.mkstemp(
        prefix="hippoflow-highpass-", suffix=".f32", dir=scratch_root(scratch_dir)
    )
    os.close(fd)
    path = Path(name)
    if stack is not None:
        stack.callback(path.unlink, missing_ok=True)
    buf = np.memmap(path, dtype=np.float32, mode="w+", shape=(n,))
    return buf, str(path)


def rplhighpass(raw_path, out_path, args, progress=True, memory_mb=None, scratch_dir=None) -> None:
    """RPLHighPass of one channel file: the output file is written once.

    The forward pass is held in memory when it fits ``memory_mb`` (the job's ``mem_mb``;
    None = no limit), else in a node-local scratch file under ``scratch_dir``; the backward
    pass writes each finished slice of the output once (PyHipp's values, unchanged).
    """
    from hippoflow.ripple import filters  # scipy.signal: ~1.7 s a start, not for the split

    info = dpt.read_flat_dict(raw_path, "analogInfo")
    raw = dpt.open_array(raw_path)
    out = Path(out_path)
    try:
        n = raw.shape[0]
        fs = info["SampleRate"]
        log.info("%s: %d samples at %g Hz", raw_path, n, fs)
        low, high = args["HighPassFrequency"]
        # a 30 kHz band at another rate (500-7500 Hz at 2 kHz) is refused, naming the file
        filters.check_band(low, high, fs, raw_path, "highpass HighPassFrequency")
        sos = filters.bandpass_sos(low, high, args["HighOrder"] // 2, fs)
        new_info = filters.derived_info(
            info, None, fs, args["HighPassFrequency"], args["HighOrder"], "hp"
        )
        with ExitStack() as stack:
            forward, where = highpass_buffer(n, memory_mb, scratch_dir, stack)
            log.info("forward pass held in %s (%.0f MB)", where, 4 * n / 1e6)
            with dpt.StreamedObject(
                out,
                "data",
                n,
                np.float32,
                {"analogInfo": new_info, **dpt.bookkeeping(CHANNEL_LEVEL)},
                args,
                dirs=[out.parent.resolve()],
                chunk=filters.CHUNK,
                cache_bytes=0,
            ) as obj:
                dset = obj.dataset

                def write(s, y):
                    dset[s : s + y.size] = y

                lo, hi = filters.filtfilt_once(
                    sos,
                    n,
                    lambda s, e: raw[s:e],
                    write,
                    forward,
                    filters.pyhipp_padlen(args["HighOrder"] // 2),
                    progress=Progress(log, "high-pass") if progress else None,
                    dtype=np.float32,
                )
                obj.set_value("analogInfo", "MinVal", value=lo)
                obj.set_value("analogInfo", "MaxVal", value=hi)
                obj.commit()
    finally:
        raw.file.close()
