"""Electrodes and voltage series: the Ripple device, one electrode group per array, one
electrode row per channel, the LFP (``processing/ecephys``) and, when configured, the 30 kHz
high-pass and broadband series (``acquisition``).

Inputs: each channel's RPLLFP (and RPLHighPass / RPLRaw) object, ``data`` float32 uV and
``analogInfo``.  The series are never loaded whole: :class:`ChannelStack` reads a buffer of
samples x channels at a time from the channels' hickle files (HDF5) and pynwb writes it
chunked and gzip-compressed, so memory is bounded by the buffer whatever the session's
length.  Samples are stored as the workflow's float32 uV with ``conversion`` 1e-6 (volts).
"""

from __future__ import annotations

from collections.abc import Sequence

import h5py
import numpy as np
from hdmf.backends.hdf5.h5_utils import H5DataIO
from hdmf.data_utils import GenericDataChunkIterator
from pynwb import NWBFile
from pynwb.ecephys import LFP, ElectricalSeries

from hippoflow.errors import InputError

HKL_DATA = '"data"'  # hickle 5's dataset name of the dict key "data" (group /data)
UV = 1e-6  # uV -> V
CHUNK_ROWS = 65536  # samples per chunk (x up to 32 channels of float32: <= 8 MB)
CHUNK_CHANNELS = 32
BUFFER_GB = 0.1  # samples x channels read and written at once (bounds the job's memory)


def hkl_dataset(f: h5py.File, path) -> h5py.Dataset:
    try:
        return f["data"][HKL_DATA]
    except KeyError:
        raise InputError(f"{path}: no 'data' array (not an RPL* object file)") from None


def _value(ds: h5py.Dataset):
    v = ds[()]
    if isinstance(v, np.ndarray) and v.dtype.kind == "S":  # hickle's str: an array of chars
        return b"".join(v.ravel().tolist()).decode()
    if isinstance(v, bytes):
        return v.decode()
    return v.item() if isinstance(v, np.generic | np.ndarray) and np.ndim(v) == 0 else v


def analog_info(path) -> dict:
    """The object's ``analogInfo`` scalars, read from its HDF5 group (not the whole file)."""
    with h5py.File(str(path), "r") as f:
        try:
            group = f["data"]['"analogInfo"']
        except KeyError:
            raise InputError(f"{path}: no 'analogInfo' (not an RPL* object file)") from None
        return {k.strip('"'): _value(group[k]) for k in group if isinstance(group[k], h5py.Dataset)}


def recording_seconds(path) -> float:
    """Length (s) of a channel file's series: its samples over its ``SampleRate``."""
    rate = float(analog_info(path)["SampleRate"])
    with h5py.File(str(path), "r") as f:
        return int(hkl_dataset(f, path).shape[0]) / rate


class ChannelStack(GenericDataChunkIterator):
    """Samples x channels from one hickle file per channel, read a buffer at a time."""

    def __init__(self, paths: Sequence, **kwargs):
        self.paths = [str(p) for p in paths]
        self._files = [h5py.File(p, "r") for p in self.paths]
        self._sets = [hkl_dataset(f, p) for f, p in zip(self._files, self.paths, strict=True)]
        lengths = {int(d.shape[0]) for d in self._sets}
        if len(lengths) != 1:
            sizes = ", ".join(
                f"{p}: {d.shape[0]}" for p, d in zip(self.paths, self._sets, strict=True)
            )
            raise InputError(f"channels of one session differ in length ({sizes})")
        self._n = lengths.pop()
        rows = max(1, min(CHUNK_ROWS, self._n))
        kwargs.setdefault("chunk_shape", (rows, min(CHUNK_CHANNELS, len(self.paths))))
        kwargs.setdefault("buffer_gb", BUFFER_GB)
        kwargs.setdefault("display_progress", False)
        super().__init__(**kwargs)

    def _get_data(self, selection: tuple[slice, slice]) -> np.ndarray:
        rows, cols = selection
        chans = range(len(self._sets))[cols]
        out = np.empty((len(range(self._n)[rows]), len(chans)), dtype=np.float32)
        for j, c in enumerate(chans):
            out[:, j] = self._sets[c][rows]
        return out

    def _get_maxshape(self) -> tuple[int, int]:
        return (self._n, len(self.paths))

    def _get_dtype(self) -> np.dtype:
        return np.dtype(np.float32)

    def close(self) -> None:
        for f in self._files:
            f.close()


def compressed(iterator, level: int) -> H5DataIO:
    if level > 0:
        return H5DataIO(iterator, compression="gzip", compression_opts=int(level), shuffle=True)
    return H5DataIO(iterator)


def add_electrodes(nwbfile: NWBFile, channels: Sequence[tuple[str, str]], location: str):
    """One row per (array, channel); returns the table region of all rows, in that order."""
    model = nwbfile.create_device_model(
        name="Ripple Grapevine",
        manufacturer="Ripple Neuro",
        description="Grapevine neural interface processor (NIP); writes .nev/.ns5 files",
    )
    device = nwbfile.create_device(
        name="Ripple", description="the recording's neural interface processor", model=model
    )
    groups = {}
    for array in sorted({a for a, _ in channels}):
        groups[array] = nwbfile.create_electrode_group(
            name=f"array{array}",
            description=f"electrode array {array} (the .ns5 header's connector)",
            location=location,
            device=device,
        )
    nwbfile.add_electrode_column("channel_name", "channel directory: arrayNN/channelNNN")
    nwbfile.add_electrode_column("electrode_id", "electrode id in the .ns5 header")
    for array, channel in channels:
        nwbfile.add_electrode(
            group=groups[array],
            location=location,
            channel_name=f"array{array}/channel{channel}",
            electrode_id=int(channel),
        )
    return nwbfile.create_electrode_table_region(
        list(range(len(channels))), "every channel of the session, in the electrodes table order"
    )


def filtering_text(info: dict, what: str) -> str:
    lo, hi = info.get("HighFreqCorner"), info.get("LowFreqCorner")
    order = info.get("LowFreqOrder")
    return (
        f"{what}: zero-phase Butterworth band-pass {float(lo):g}-{float(hi):g} Hz "
        f"(order {order} applied forward and backward, second-order sections)"
    )


def add_series(
    nwbfile: NWBFile,
    name: str,
    paths: Sequence,
    region,
    description: str,
    filtering: str,
    level: int,
):
    """An ElectricalSeries of the channels' files (streamed); returns (series, iterator)."""
    info = analog_info(paths[0])
    rate = float(info["SampleRate"])
    if str(info.get("Units", "uV")) != "uV":
        raise InputError(f"{paths[0]}: units {info.get('Units')!r}, expected 'uV'")
    stack = ChannelStack(paths)
    series = ElectricalSeries(
        name=name,
        data=compressed(stack, level),
        electrodes=region,
        starting_time=0.0,
        rate=rate,
        conversion=UV,
        filtering=filtering,
        description=description,
    )
    return series, stack


def add_lfp(nwbfile: NWBFile, paths: Sequence, region, level: int):
    info = analog_info(paths[0])
    filt = filtering_text(info, "RPLLFP")
    filt += f"; resampled to {float(info['SampleRate']):g} Hz (polyphase)"
    module = nwbfile.create_processing_module("ecephys", "extracellular electrophysiology")
    lfp = LFP(name="LFP")
    module.add(lfp)  # attached before the series: its electrodes region links the file's table
    series, stack = add_series(
        nwbfile,
        "LFP",
        paths,
        region,
        "local field potential of every channel (rpllfp files)",
        filt,
        level,
    )
    lfp.add_electrical_series(series)
    return stack


def add_acquisition(nwbfile: NWBFile, kind: str, paths: Sequence, region, level: int):
    """``kind`` 'highpass' (RPLHighPass) or 'raw' (RPLRaw, the recording as split)."""
    info = analog_info(paths[0])
    if kind == "highpass":
        filt = filtering_text(info, "RPLHighPass")
        what = "30 kHz high-pass (spike band) of every channel (rplhighpass files)"
    else:
        filt = "Ripple front end only (hardware filter corners in the rplraw files' analogInfo)"
        what = "30 kHz broadband recording of every channel (rplraw files)"
    series, stack = add_series(nwbfile, kind, paths, region, what, filt, level)
    nwbfile.add_acquisition(series)
    return stack
