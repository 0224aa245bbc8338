"""A day-channel's sessions laid end to end in one float32 binary file, and its recording.

Input: the day-channel's high-pass DPT files (``rplhighpass_<h>.hkl``, 1-D ``data`` in
microvolts and ``analogInfo/SampleRate``), one per session.  Output: a :class:`Concatenation`
(the binary file, each session's first sample and length, a robust noise estimate) and
SpikeInterface recordings of it (:func:`recording`).  Used by the sort step
(:mod:`hippoflow.sorting.sort`) and by the sorter's child process
(:mod:`hippoflow.sorting.runner`), which therefore need not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hippoflow import dpt
from hippoflow.errors import InputError
from hippoflow.naming import session_order
from hippoflow.sorting.cells import FS

CHUNK = 1 << 20  # samples per copy step (4 MiB of float32)


@dataclass
class Concatenation:
    """A day-channel's sessions laid end to end in one float32 binary file (microvolts)."""

    path: Path
    sessions: list[str]
    inputs: list[str]
    starts: np.ndarray  # first sample of each session in the concatenation
    lengths: np.ndarray
    sampling_rate: float
    noise_uv: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return int(self.lengths.sum())


def _open_highpass(session: str, path: Path):
    if not path.exists():
        raise InputError(
            f"{path}: high-pass file of {session} is missing (the day-channel sort "
            "concatenates every session where the channel exists)"
        )
    dset = dpt.open_array(path)
    try:
        if dset.ndim != 1 or dset.shape[0] == 0:
            raise InputError(f"{path}: expected a non-empty 1-D 'data' array, got {dset.shape}")
        try:
            info = dpt.read_flat_dict(path, "analogInfo")
            rate = float(info["SampleRate"])
        except (KeyError, OSError, ValueError) as exc:
            raise InputError(f"{path}: no analogInfo/SampleRate ({exc})") from exc
    except Exception:
        dset.file.close()
        raise
    return dset, rate


def concatenate(sources, dest, log=None, chunk: int = CHUNK, progress=None) -> Concatenation:
    """Copy the high-pass data of ``sources`` [(session, path), ...] into ``dest`` (float32).

    Sessions go in :func:`session_order`.  Also estimates the noise (MAD / 0.6745 over up to
    300 evenly spaced 0.1 s pieces per session), which spikes barely move.
    """
    sources = [(s, Path(p)) for s, p in sources]
    by_name = dict(sources)
    if len(by_name) != len(sources) or not sources:
        raise ValueError("sources must name each session once and not be empty")
    order = session_order(by_name)
    opened = []
    try:
        for s in order:
            opened.append(_open_highpass(s, by_name[s]))
        rates = {r for _, r in opened}
        if len(rates) != 1:
            detail = ", ".join(
                f"{by_name[s]}: {r:g} Hz" for s, (_, r) in zip(order, opened, strict=True)
            )
            raise InputError(f"sessions of one day-channel differ in sampling rate ({detail})")
        rate = rates.pop()
        if rate != FS:
            raise InputError(
                f"{by_name[order[0]]}: high-pass data sampled at {rate:g} Hz "
                f"(analogInfo/SampleRate), but the sort is made for {FS:g} Hz data (spike "
                f"times to ms, 3 ms templates of {int(0.003 * FS)} samples): sort only "
                f"{FS:g} Hz recordings"
            )
        lengths = np.array([d.shape[0] for d, _ in opened], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        total = int(lengths.sum())
        pieces = []
        done = 0
        dest = Path(dest)
        with open(dest, "wb") as f:
            for (dset, _), n in zip(opened, lengths, strict=True):
                for s in range(0, int(n), chunk):
                    x = np.asarray(dset[s : min(int(n), s + chunk)], dtype=np.float32)
                    if not np.all(np.isfinite(x)):
                        raise InputError(f"{dset.file.filename}: non-finite samples near {s}")
                    f.write(x.tobytes())
                    done += x.size
                    if progress:
                        progress(done / total)
                piece = int(min(n, rate / 10))
                for a in np.linspace(0, n - piece, num=min(300, max(1, n // piece))).astype(int):
                    pieces.append(np.asarray(dset[a : a + piece], dtype=np.float64))
        sample = np.concatenate(pieces)
        noise = float(np.median(np.abs(sample - np.median(sample))) / 0.6745)
        if not noise > 0:
            raise InputError(f"{by_name[order[0]]}: high-pass data is flat (noise estimate 0)")
        if log:
            log.info(
                "concatenated %s: %d samples (%.1f s), noise %.2f uV",
                ", ".join(order),
                total,
                total / rate,
                noise,
            )
        return Concatenation(
            dest, order, [str(by_name[s]) for s in order], starts, lengths, rate, noise
        )
    finally:
        for dset, _ in opened:
            dset.file.close()


def recording(cat: Concatenation, scaled: bool):
    """SpikeInterface recording of the concatenation.

    ``scaled``: the traces are in noise-sigma units (gain_to_uV = noise); else in microvolts.
    """
    import spikeinterface.core as si

    if scaled:
        rec = si.read_binary(
            cat.path.with_suffix(".scaled.bin"),
            sampling_frequency=cat.sampling_rate,
            dtype="float32",
            num_channels=1,
            gain_to_uV=cat.noise_uv,
            offset_to_uV=0.0,
            is_filtered=True,
        )
    else:
        rec = si.read_binary(
            cat.path,
            sampling_frequency=cat.sampling_rate,
            dtype="float32",
            num_channels=1,
            gain_to_uV=1.0,
            offset_to_uV=0.0,
            is_filtered=True,
        )
    rec.set_dummy_probe_from_locations(np.zeros((1, 2)))
    return rec


def write_scaled(cat: Concatenation, chunk: int = CHUNK) -> None:
    src = np.memmap(cat.path, dtype=np.float32, mode="r")
    with open(cat.path.with_suffix(".scaled.bin"), "wb") as f:
        for s in range(0, src.size, chunk):
            f.write((src[s : s + chunk] / np.float32(cat.noise_uv)).astype(np.float32).tobytes())
    del src
