"""Blackrock NEV event files as Ripple's Trellis writes them: header checks, the
parallel-port (digital input) events read natively for validation and through neo for the
markers, and a writer for synthetic files.

Inputs: a ``.nev`` path (and its session's ``.ns5`` for the pair check). Outputs: the
(code, time in s) stream of the parallel port; :class:`NevHeader`.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import struct
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hippoflow.errors import InputError
from hippoflow.ripple.nsx import SAMPLING_RATE, read_nsx_header, systemtime

log = logging.getLogger(__name__)

NEV_BASIC = 336
NEV_EXTENDED = 32


@dataclass
class NevHeader:
    path: Path
    version: tuple[int, int]
    flags: int
    bytes_in_headers: int
    packet_size: int
    resolution: int
    extended: list[bytes] = field(default_factory=list)


def read_nev_header(path) -> NevHeader:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            basic = f.read(NEV_BASIC)
            if len(basic) < NEV_BASIC:
                raise InputError(f"{path}: file is shorter than the {NEV_BASIC}-byte NEV header")
            if basic[:8] != b"NEURALEV":
                raise InputError(f"{path}: not a NEV file (starts with {basic[:8]!r})")
            major, minor = basic[8], basic[9]
            flags, bytes_in_headers, packet_size, resolution = struct.unpack_from(
                "<HIII", basic, 10
            )
            (n_ext,) = struct.unpack_from("<I", basic, 332)
            ext = f.read(NEV_EXTENDED * n_ext)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    if bytes_in_headers != NEV_BASIC + NEV_EXTENDED * n_ext:
        raise InputError(
            f"{path}: header size {bytes_in_headers} does not match {n_ext} extended headers"
        )
    if len(ext) < NEV_EXTENDED * n_ext:
        raise InputError(f"{path}: truncated inside the extended headers")
    if resolution == 0:
        raise InputError(
            f"{path}: time resolution is 0 ticks per second in the header: event time "
            "stamps cannot be put in seconds"
        )
    extended = [ext[i : i + NEV_EXTENDED] for i in range(0, len(ext), NEV_EXTENDED)]
    return NevHeader(
        path, (major, minor), flags, bytes_in_headers, packet_size, resolution, extended
    )


def read_nev_digital(path) -> tuple[np.ndarray, np.ndarray]:
    """Parallel-port events of a NEV file as (timestamps in ticks, values), natively.

    Used for validation with precise messages; the workflow reads markers with neo.
    """
    header = read_nev_header(path)
    path = header.path
    if header.packet_size < 16 or header.packet_size % 4:
        raise InputError(f"{path}: packet size {header.packet_size} is not a valid NEV packet size")
    size = path.stat().st_size
    n = (size - header.bytes_in_headers) // header.packet_size
    rec = np.dtype(
        [
            ("timestamp", "<u4"),
            ("packet_id", "<u2"),
            ("reason", "u1"),
            ("reserved", "u1"),
            ("value", "<u2"),
            ("pad", f"V{header.packet_size - 10}"),
        ]
    )
    packets = np.memmap(path, dtype=rec, mode="r", offset=header.bytes_in_headers, shape=(n,))
    digital = packets[packets["packet_id"] == 0]
    return np.asarray(digital["timestamp"], dtype=np.int64), np.asarray(digital["value"], np.int64)


def check_pair(nev_path, ns5_path) -> None:
    """A session's .nev and .ns5 must share a file-spec version (neo refuses otherwise)."""
    if nev_path is None or ns5_path is None:
        return
    nev = read_nev_header(nev_path)
    nsx = read_nsx_header(ns5_path)
    if nev.version != nsx.version:
        raise InputError(
            f"{nev_path}: file spec {nev.version[0]}.{nev.version[1]} differs from "
            f"{Path(ns5_path).name} (spec {nsx.version[0]}.{nsx.version[1]}): "
            "the pair does not come from one recording"
        )


def read_nev_events(nev_path) -> tuple[np.ndarray, np.ndarray]:
    """Parallel-port (code, time in s) stream of a .nev, read with neo.

    Times are ticks / the header's time resolution (``timestamp_resolution``, ticks per
    second: 30000 for Ripple, but read from each file, as neo's rescaling does), never a
    constant.

    The file is first checked natively so that the problems neo reports obscurely (or not
    at all) get a message naming the file and the cause.  neo reads a symlink to the .nev in
    a private directory, so a broken .ns5 next to it cannot fail this step.
    """
    nev_path = Path(nev_path)
    header = read_nev_header(nev_path)
    if not header.flags & 1:
        raise InputError(f"{nev_path}: header flag bit 0 (16-bit spike waveforms) is clear")
    if header.packet_size < 16 or header.packet_size % 4 or header.packet_size == 16:
        raise InputError(f"{nev_path}: unsupported packet size {header.packet_size} bytes")
    extra = (nev_path.stat().st_size - header.bytes_in_headers) % header.packet_size
    if extra:
        log.warning("%s: %d trailing bytes of a truncated final packet ignored", nev_path, extra)
    ticks, _ = read_nev_digital(nev_path)
    if len(ticks) > 1:
        back = np.flatnonzero(np.diff(ticks) < 0)
        if back.size:
            i = int(back[0]) + 1
            raise InputError(
                f"{nev_path}: packets out of time order at digital event {i} "
                f"({ticks[i - 1]} then {ticks[i]} ticks)"
            )
    import neo.rawio

    with tempfile.TemporaryDirectory(prefix="hippoflow-nev-") as tmp:
        link = Path(tmp) / "markers.nev"
        os.symlink(nev_path.resolve(), link)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reader = neo.rawio.BlackrockRawIO(filename=str(link), nsx_to_load=None)
                reader.parse_header()
        except Exception as exc:  # neo raises bare TypeError/ValueError on bad files
            raise InputError(f"{nev_path}: neo cannot read the file ({exc})") from exc
        names = [str(n) for n in reader.header["event_channels"]["name"]]
        if "digital_input_port" not in names:
            raise InputError(f"{nev_path}: no digital input port events in the file")
        idx = names.index("digital_input_port")
        n_blocks = reader.block_count()
        codes, times = [], []
        for seg in range(reader.segment_count(0) if n_blocks else 0):
            ts, _, labels = reader.get_event_timestamps(0, seg, idx)
            times.append(
                reader.rescale_event_timestamp(ts, dtype="float64", event_channel_index=idx)
            )
            codes.append(np.asarray(labels).astype(np.int64))
    if not codes:
        raise InputError(f"{nev_path}: no digital events")
    return np.concatenate(codes), np.concatenate(times)


def write_nev(
    path,
    timestamps,
    values,
    packet_size: int = 104,
    version: tuple[int, int] = (2, 3),
    flags: int = 1,
    when: _dt.datetime | None = None,
    resolution: int = SAMPLING_RATE,
) -> None:
    """Write a NEV file holding parallel-port digital events (reason 1); ``resolution``:
    time-stamp ticks per second (the waveform sample resolution stays 30 kHz)."""
    when = when or _dt.datetime(2018, 11, 5, 10, 0, 0)
    basic = b"NEURALEV" + bytes(version)
    basic += struct.pack("<HIIII", flags, NEV_BASIC, packet_size, resolution, SAMPLING_RATE)
    basic += systemtime(when)
    basic += b"hippoflow generator".ljust(32, b"\x00")
    basic += b"synthetic parallel-port markers".ljust(256, b"\x00")
    basic += struct.pack("<I", 0)
    assert len(basic) == NEV_BASIC
    body = bytearray()
    for ts, val in zip(timestamps, values, strict=True):
        packet = struct.pack("<IHBBH", int(ts), 0, 1, 0, int(val))
        body += packet.ljust(packet_size, b"\x00")
    with open(path, "wb") as f:
        f.write(basic)
        f.write(bytes(body))
