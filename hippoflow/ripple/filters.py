"""RPLLFP and RPLHighPass: PyHipp's filters computed chunk by chunk.

Inputs: a channel's samples through ``read(start, end)``. Outputs: the LFP (polyphase
resampling then zero-phase band-pass) as an array, the high-pass through ``write(start,
values)``, and the filtered channel's ``analogInfo``. Values equal scipy's whole-array
``resample_poly`` / ``sosfiltfilt`` with PyHipp's padding.
"""

from __future__ import annotations

from collections.abc import Callable
from math import gcd

import numpy as np
from scipy import signal

from hippoflow.errors import InputError
from hippoflow.ripple.split import CHUNK


def pyhipp_padlen(order: int) -> int:
    """Padding of PyHipp's (b, a) filtfilt for a band-pass of the given order."""
    return 3 * (2 * order)  # len(a) = len(b) = 2 * order + 1 for a band-pass


def check_band(low: float, high: float, fs: float, where, key: str) -> None:
    """Refuse a band the sampling rate cannot hold (scipy's butter would raise a bare
    ValueError): ``where`` names the file, ``key`` the config entry that sets the band."""
    nyquist = fs / 2
    if not 0 < low < high < nyquist:
        raise InputError(
            f"{where}: band {low:g}-{high:g} Hz ({key}) cannot be filtered at this file's "
            f"sampling rate of {fs:g} Hz (Nyquist {nyquist:g} Hz): the corners must lie "
            f"between 0 and {nyquist:g} Hz; set {key} for this recording's rate or "
            "record at a higher rate"
        )


def decimation(fs: float, resample_rate: float, where) -> int:
    """The integer factor from ``fs`` down to ``resample_rate`` (RPLLFP only decimates)."""
    down = int(round(fs / resample_rate)) if resample_rate > 0 else 0
    if down < 1 or abs(fs / down - resample_rate) > 1e-9:
        raise InputError(
            f"{where}: sampling rate {fs:g} Hz is not an integer multiple of the LFP rate "
            f"{resample_rate:g} Hz (lfp ResampleRate): choose a ResampleRate that divides "
            f"{fs:g}"
        )
    return down


def bandpass_sos(low: float, high: float, order: int, fs: float) -> np.ndarray:
    return signal.butter(order, [low, high], btype="bandpass", fs=fs, output="sos")


def _odd_ext_left(read: Callable[[int, int], np.ndarray], n: int, padlen: int) -> np.ndarray:
    head = read(0, padlen + 1).astype(np.float64)
    return 2 * head[0] - head[padlen:0:-1]


def _odd_ext_right(read: Callable[[int, int], np.ndarray], n: int, padlen: int) -> np.ndarray:
    tail = read(n - padlen - 1, n).astype(np.float64)
    return 2 * tail[-1] - tail[-2::-1]


def _forward_pass(sos, n, read, store, padlen, chunk, progress, dtype) -> np.ndarray:
    """The forward pass of a zero-phase filter over [odd extension, x, odd extension] with
    steady-state initial conditions: each slice [s, e) of the filtered signal goes to
    ``store(s, e, y)``; returns the backward pass's initial state (from the end of the
    extended forward output)."""
    if n <= padlen:
        raise ValueError(f"signal of {n} samples is too short for padding {padlen}")
    zi0 = signal.sosfilt_zi(sos.astype(np.float64)).astype(dtype)
    left = _odd_ext_left(read, n, padlen).astype(dtype)
    right = _odd_ext_right(read, n, padlen).astype(dtype)
    _, zi = signal.sosfilt(sos, left, zi=zi0 * left[0])
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        y, zi = signal.sosfilt(sos, np.asarray(read(s, e), dtype=dtype), zi=zi)
        store(s, e, y)
        if progress:
            progress(0.5 * e / n)
    yr, zi = signal.sosfilt(sos, right, zi=zi)
    _, zb = signal.sosfilt(sos, yr[::-1], zi=zi0 * yr[-1])
    return zb


def filtfilt_stream(
    sos: np.ndarray,
    n: int,
    read: Callable[[int, int], np.ndarray],
    write: Callable[[int, np.ndarray], None],
    reread: Callable[[int, int], np.ndarray],
    padlen: int,
    chunk: int = CHUNK,
    progress: Callable[[float], None] | None = None,
    dtype=np.float64,
) -> None:
    """Zero-phase second-order-sections filter of a signal of length n, chunk by chunk.

    Same result as ``scipy.signal.sosfiltfilt(sos, x, padtype='odd', padlen=padlen)``:
    forward pass over [odd extension, x, odd extension] with steady-state initial
    conditions, then the backward pass, reading the forward result back through ``reread``
    (it may be the output store itself, so memory stays at one chunk).  ``dtype`` float32
    runs the sections in single precision (4x faster; fine for well-conditioned sections
    such as the 500-7500 Hz band at 30 kHz, relative error ~1e-5).
    """
    sos = np.asarray(sos, dtype=dtype)

    def store(s, e, y):
        write(s, y.astype(np.float32, copy=False))

    zb = _forward_pass(sos, n, read, store, padlen, chunk, progress, dtype)
    for e in range(n, 0, -chunk):
        s = max(0, e - chunk)
        seg = np.asarray(reread(s, e), dtype=dtype)[::-1]
        y, zb = signal.sosfilt(sos, seg, zi=zb)
        write(s, y[::-1].astype(np.float32))
        if progress:
            progress(0.5 + 0.5 * (n - s) / n)


def filtfilt_once(
    sos: np.ndarray,
    n: int,
    read: Callable[[int, int], np.ndarray],
    write: Callable[[int, np.ndarray], None],
    forward: np.ndarray,
    padlen: int,
    chunk: int = CHUNK,
    progress: Callable[[float], None] | None = None,
    dtype=np.float64,
) -> tuple[float, float]:
    """:func:`filtfilt_stream` writing its output once: the forward pass goes into
    ``forward`` (a float32 array of ``n`` values: memory, or a memory map on node-local
    scratch), the backward pass reads it and hands each finished slice to ``write``.

    Slices are ``[k * chunk, (k + 1) * chunk)`` (the last one shorter), handed over from the
    last to the first: a store whose chunk length divides ``chunk`` gets every chunk written
    exactly once.  The values equal :func:`filtfilt_stream`'s bit for bit (the same float32
    forward values, the same recursion; a recursion carried across slices does not depend on
    where they are cut).  Returns the output's (min, max).
    """
    if n <= padlen:
        raise ValueError(f"signal of {n} samples is too short for padding {padlen}")
    if forward.shape != (n,) or forward.dtype != np.float32:
        raise ValueError(f"forward buffer must be float32 of shape ({n},), not {forward.shape}")
    sos = np.asarray(sos, dtype=dtype)

    def store(s, e, y):
        forward[s:e] = y

    zb = _forward_pass(sos, n, read, store, padlen, chunk, progress, dtype)
    lo, hi = np.inf, -np.inf
    for s in range(((n - 1) // chunk) * chunk, -1, -chunk):
        e = min(n, s + chunk)
        seg = np.asarray(forward[s:e], dtype=dtype)[::-1]
        y, zb = signal.sosfilt(sos, seg, zi=zb)
        out = y[::-1].astype(np.float32)
        lo, hi = min(lo, float(out.min())), max(hi, float(out.max()))
        write(s, out)
        if progress:
            progress(0.5 + 0.5 * (n - s) / n)
    return lo, hi


def resample_stream(
    n: int,
    read: Callable[[int, int], np.ndarray],
    up: int,
    down: int,
    chunk: int = CHUNK,
) -> np.ndarray:
    """``scipy.signal.resample_poly(x, up, down)`` computed over chunks (same values)."""
    g = gcd(up, down)
    up, down = up // g, down // g
    if up != 1:
        raise ValueError("only integer decimation is streamed (up must divide down)")
    n_out = -(-n * up // down)
    half = 10 * max(up, down)  # resample_poly's default filter half-length
    margin = (half // down + 2) * down
    step = max(down, (chunk // down) * down)
    out = np.empty(n_out, dtype=np.float64)
    for s in range(0, n, step):
        e = min(n, s + step)
        a = max(0, s - margin)
        b = min(n, e + margin)
        seg = read(a, b).astype(np.float64)
        y = signal.resample_poly(seg, up, down)
        # index k of y corresponds to global output (a // down) + k; a is a multiple of down
        k0 = s // down - a // down
        k1 = k0 + (-(-e // down) - s // down)
        out[s // down : -(-e // down)] = y[k0:k1]
    return out


def lowpass(n, read, fs, resample_rate=1000, order=8, band=(1, 150), chunk=CHUNK, where="signal"):
    """PyHipp RPLLFP: polyphase resample to ``resample_rate``, then zero-phase band-pass of
    order ``order/2`` forward and backward.  Returns float32.

    Any input rate that is an integer multiple of ``resample_rate`` works (30 kHz: 30,
    2 kHz: 2); others, and a band above the LFP's Nyquist, raise :class:`InputError`
    naming ``where``."""
    down = decimation(fs, resample_rate, where)
    check_band(band[0], band[1], resample_rate, where, "lfp LowPassFrequency")
    x = resample_stream(n, read, 1, down, chunk=chunk)
    out = np.empty(x.size, dtype=np.float32)
    sos = bandpass_sos(band[0], band[1], order // 2, resample_rate)

    def w(s, y):
        out[s : s + y.size] = y

    filtfilt_stream(
        sos,
        x.size,
        lambda s, e: x[s:e],
        w,
        lambda s, e: out[s:e],
        pyhipp_padlen(order // 2),
        chunk=chunk,
    )
    return out


def stream_extremes(n, read, chunk=CHUNK) -> tuple[float, float]:
    lo, hi = np.inf, -np.inf
    for s in range(0, n, chunk):
        x = read(s, min(n, s + chunk))
        lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
    return lo, hi


def derived_info(raw_info: dict, data, rate, band, order, kind: str) -> dict:
    """analogInfo of a filtered channel (``kind`` 'lfp' or 'hp' replaces 'raw' in ProbeInfo).

    Corners are in Hz (PyHipp multiplied the LFP corners by the resample rate: a bug).
    """
    info = dict(raw_info)
    info.update(
        SampleRate=float(rate),
        HighFreqCorner=float(band[0]),
        HighFreqOrder=int(order),
        HighFilterType="butter",
        LowFreqCorner=float(band[1]),
        LowFreqOrder=int(order),
        LowFilterType="butter",
        ProbeInfo=str(raw_info.get("ProbeInfo", "raw")).replace("raw", kind),
    )
    if data is not None:
        info.update(
            NumberSamples=int(data.size), MinVal=float(data.min()), MaxVal=float(data.max())
        )
    return info
