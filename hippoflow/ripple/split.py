"""RPLSplit: one streaming pass over a session's ``.ns5`` handing every selected channel's
samples, in microvolts, to a sink (any file spec :mod:`hippoflow.ripple.nsx` reads: 2.2, 2.3,
3.0 including one-sample packets; mV channels are scaled to microvolts).

Inputs: the session's ``.ns5`` (and ``.nev`` for the pair check). Outputs: per-channel float32
chunks through ``sink`` and PyHipp's ``analogInfo`` per channel; memory bounded by the chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from hippoflow.digests import HashingReader
from hippoflow.errors import InputError
from hippoflow.ripple import nsx
from hippoflow.ripple.nev import check_pair

CHUNK = 1 << 20  # samples per channel per streaming step (split and filters)


def channel_info(ch: nsx.NsxChannel, rate: float, n_samples: int, vmin, vmax) -> dict:
    """PyHipp's analogInfo for one channel."""
    return {
        "SampleRate": float(rate),
        "Units": "uV",
        "HighFreqCorner": ch.hi_corner_hz,
        "HighFreqOrder": ch.hi_order,
        "HighFilterType": ch.hi_type,
        "LowFreqCorner": ch.lo_corner_hz,
        "LowFreqOrder": ch.lo_order,
        "LowFilterType": ch.lo_type,
        "MaxVal": float(vmax),
        "MinVal": float(vmin),
        "NumberSamples": int(n_samples),
        "ProbeInfo": ch.label,
    }


# split_compression: HDF5 filters built into every HDF5 library (h5py, hickle, MATLAB, HDFView)
COMPRESSION = ("none", "gzip", "scaleoffset")
GZIP = {"shuffle": True, "compression": "gzip", "compression_opts": 1}


def decimal_grid(gain: float, offset: float = 0.0, max_digits: int = 4) -> int | None:
    """The decimal digits D at which every ``k * gain + offset`` (k integer) is an integer
    after scaling by 10**D and exactly a float32, or None.  Ripple's 0.25 uV step gives 2.

    HDF5's scale-offset filter stores ``round(x * 10**D)`` for floats: lossless exactly when
    the values are multiples of 10**-D that float32 holds exactly, i.e. a dyadic step
    (0.25, 0.5, 1) with a decimal scale and no offset."""
    if offset != 0.0 or gain <= 0:
        return None
    for d in range(max_digits + 1):
        scaled = gain * 10**d
        if abs(scaled - round(scaled)) < 1e-9 and float(np.float32(gain)) == gain:
            m, _ = np.frexp(gain)
            # dyadic: gain = m * 2**e with m * 2**24 an integer (float32 holds every k * gain)
            if float(m * 2**24).is_integer():
                return d
    return None


def split_filters(mode: str, gains, offsets) -> tuple[dict, str]:
    """h5py dataset options of the split files for ``split_compression`` ``mode``, and a
    sentence for the log.  ``scaleoffset`` falls back to lossless gzip when a channel's
    values are not on a decimal grid float32 holds exactly."""
    if mode not in COMPRESSION:
        raise ValueError(f"split_compression must be one of {', '.join(COMPRESSION)}, not {mode!r}")
    if mode == "none":
        return {}, "uncompressed (PyHipp's layout)"
    if mode == "gzip":
        return dict(GZIP), "shuffle + deflate 1 (lossless)"
    digits = {decimal_grid(float(g), float(o)) for g, o in zip(gains, offsets, strict=True)}
    if None in digits or not digits:
        return dict(GZIP), "shuffle + deflate 1: a channel's step is not on a decimal grid"
    d = max(digits)
    return {"scaleoffset": d}, f"scale-offset at 10^-{d} (lossless on the recording's grid)"


def open_session_ns5(ns5_files: list, nev_path=None):
    """The session's single .ns5: header plus validated data blocks."""
    if len(ns5_files) != 1:
        where = Path(ns5_files[0]).parent if ns5_files else "session"
        raise InputError(
            f"{where}: expected exactly one .ns5 per session, found {len(ns5_files)}: "
            + ", ".join(Path(p).name for p in ns5_files)
        )
    ns5 = Path(ns5_files[0])
    check_pair(nev_path, ns5)
    header = nsx.read_nsx_header(ns5)
    blocks = nsx.nsx_data_blocks(header)
    return header, blocks


def _microvolt_factors(header: nsx.NsxHeader, cols: np.ndarray, ids: list):
    """(gain, offset) per selected channel, float64; refuses channels that are not voltages."""
    for c, e in zip(cols, ids, strict=True):
        ch = header.channels[c]
        if ch.gain is None:
            raise InputError(
                f"{header.path}: electrode {e} has units {ch.units!r}, not a voltage "
                f"(known: {', '.join(nsx.TO_MICROVOLTS)}): its samples cannot be put in "
                "microvolts; leave the channel out of the selection"
            )
    gains = np.array([header.channels[c].gain for c in cols], dtype=np.float64)
    offsets = np.array([header.channels[c].offset for c in cols], dtype=np.float64)
    return gains, offsets


def split_stream(
    header: nsx.NsxHeader,
    blocks: list,
    electrode_ids: Iterable[int],
    sink: Callable[[int, int, np.ndarray], None],
    chunk: int = CHUNK,
    progress: Callable[[float], None] | None = None,
    digest: Callable[[dict], None] | None = None,
) -> dict[int, tuple[float, float]]:
    """One streaming pass over the data: ``sink(electrode_id, start, microvolts_float32)``.

    The array handed to ``sink`` is a reused buffer: copy it to keep it.
    Data blocks (segments) are concatenated in file order.  Returns per-channel (min, max).
    With ``digest``, the bytes are hashed as they are read (:class:`hippoflow.digests.
    HashingReader`: only the headers the pass skips are read for it) and ``digest`` is called
    with the file's record (path, size, mtime_ns, sha256) once the pass is done.
    Microvolts are ``digital * gain + offset`` (the header's range in the channel's units,
    times 1000 for mV) rounded once to float32, as neo's float64 rescaling then a cast.
    """
    ids = list(electrode_ids)
    cols = np.array([header.channel_index(e) for e in ids], dtype=np.intp)
    g64, o64 = _microvolt_factors(header, cols, ids)
    # float32 arithmetic is exact (one rounding) when every gain is a float32 and offsets are 0
    fast = bool(np.all(o64 == 0) and np.all(g64.astype(np.float32) == g64))
    gains = g64.astype(np.float32)[:, None]
    n_ch = len(header.channels)
    frame = 2 * n_ch
    total = sum(b.n_samples for b in blocks)
    lo = np.full(len(ids), np.iinfo(np.int16).max, dtype=np.int64)
    hi = np.full(len(ids), np.iinfo(np.int16).min, dtype=np.int64)
    every = np.array_equal(cols, np.arange(n_ch))
    # reused buffers: plain reads (no memory map, so the file's pages never count as ours)
    buf = np.empty((chunk, n_ch), dtype="<i2")
    stride = max((b.stride for b in blocks), default=0)
    packets = np.empty((chunk, stride), dtype=np.uint8) if stride else None
    rows = np.empty((len(ids), chunk), dtype=np.int16)
    volts = np.empty((len(ids), chunk), dtype=np.float32)
    wide = None if fast else np.empty(chunk, dtype=np.float64)
    done = 0
    with open(header.path, "rb", buffering=0) as plain:
        f = plain if digest is None else HashingReader(plain, header.path)
        for block in blocks:
            # a strided block is read packet by packet, from packet 0's header
            f.seek(block.offset - (block.stride - frame if block.stride else 0))
            for s in range(0, block.n_samples, chunk):
                m = min(chunk, block.n_samples - s)
                if block.stride:
                    view = buf[:m]
                    # the sample bytes copied into aligned frames (odd offsets are slow)
                    view.view(np.uint8)[...] = _read_packets(
                        f, header, block, s, packets[:m], frame
                    )
                else:
                    view = buf[:m]
                    got = f.readinto(memoryview(view).cast("B"))
                    if got != view.nbytes:
                        raise InputError(f"{header.path}: file ended inside a data block")
                r = rows[:, :m]
                _transpose_into(view, cols, every, r)
                np.minimum(lo, r.min(axis=1), out=lo)
                np.maximum(hi, r.max(axis=1), out=hi)
                v = volts[:, :m]
                if fast:
                    np.multiply(r, gains, out=v)
                else:
                    w = wide[:m]
                    for j in range(len(ids)):
                        np.multiply(r[j], g64[j], out=w)
                        w += o64[j]
                        v[j] = w
                for j, e in enumerate(ids):
                    sink(e, done + s, v[j])
                if progress:
                    progress((done + s + m) / total)
            done += block.n_samples
        if digest is not None:
            digest(f.finish())
    ends = {
        e: (float(np.float32(lo[j] * g64[j] + o64[j])), float(np.float32(hi[j] * g64[j] + o64[j])))
        for j, e in enumerate(ids)
    }
    return {e: (min(a, b), max(a, b)) for e, (a, b) in ends.items()}


def _read_packets(f, header, block, s, raw: np.ndarray, frame: int) -> np.ndarray:
    """Read ``raw.shape[0]`` one-sample packets, packet ``s`` first (the file is positioned at
    its header); returns their sample bytes, (samples, 2 x channels) uint8.  Checks every
    packet header (flag 1, one sample)."""
    hsize = block.stride - frame
    got = f.readinto(memoryview(raw).cast("B"))
    if got != raw.nbytes:
        raise InputError(f"{header.path}: file ended inside data packet {s + got // block.stride}")
    count = raw[:, hsize - 4 : hsize].copy().view("<u4")[:, 0]
    bad = np.flatnonzero((raw[:, 0] != 1) | (count != 1))
    if bad.size:
        k = s + int(bad[0])
        pos = block.offset - hsize + k * block.stride
        raise InputError(
            f"{header.path}: data packet {k + 1} at byte {pos} is not a one-sample packet "
            f"(flag {raw[bad[0], 0]}, {count[bad[0]]} samples) in a file of one-sample packets"
        )
    return raw[:, hsize:]


def _transpose_into(view: np.ndarray, cols: np.ndarray, every: bool, out: np.ndarray) -> None:
    """out[j, t] = view[t, cols[j]], in cache-sized blocks (4x faster than one strided gather)."""
    step = 2048
    for a in range(0, view.shape[0], step):
        block = view[a : a + step]
        out[:, a : a + step] = (block if every else block[:, cols]).T
