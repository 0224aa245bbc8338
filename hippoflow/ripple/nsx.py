"""Blackrock NSx continuous files as Ripple's Trellis writes them (file spec 2.3): the
header with its per-channel extended headers, the data blocks, and a writer.

Inputs: an ``.ns5`` path. Outputs: :class:`NsxHeader` (channels, gains, rate) and
:class:`DataBlock` offsets; the samples themselves are streamed by :mod:`hippoflow.ripple.split`.
The writer makes files neo reads back exactly (synthetic days and bad-input test cases).
"""

from __future__ import annotations

import datetime as _dt
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hippoflow.errors import InputError

NSX_BASIC = 314
NSX_CHANNEL = 66
SAMPLING_RATE = 30000  # Ripple's time resolution (ticks per second) and the .ns5 rate

_NSX_CHANNEL_DTYPE = np.dtype(
    [
        ("type", "S2"),
        ("electrode_id", "<u2"),
        ("label", "S16"),
        ("connector", "u1"),
        ("pin", "u1"),
        ("min_digital", "<i2"),
        ("max_digital", "<i2"),
        ("min_analog", "<i2"),
        ("max_analog", "<i2"),
        ("units", "S16"),
        ("hi_corner", "<u4"),
        ("hi_order", "<u4"),
        ("hi_type", "<u2"),
        ("lo_corner", "<u4"),
        ("lo_order", "<u4"),
        ("lo_type", "<u2"),
    ]
)
assert _NSX_CHANNEL_DTYPE.itemsize == NSX_CHANNEL


@dataclass
class NsxChannel:
    electrode_id: int
    label: str
    bank: int  # 1-based physical connector: 1 = bank A = array01
    pin: int
    gain: float  # microvolts per digital unit
    units: str
    hi_corner_hz: float
    hi_order: int
    hi_type: int
    lo_corner_hz: float
    lo_order: int
    lo_type: int
    max_analog: int
    min_analog: int


@dataclass
class NsxHeader:
    path: Path
    version: tuple[int, int]
    period: int
    resolution: int
    bytes_in_headers: int
    channels: list[NsxChannel]
    label: str = ""

    @property
    def sampling_rate(self) -> float:
        return self.resolution / self.period

    def channel_index(self, electrode_id: int) -> int:
        for i, ch in enumerate(self.channels):
            if ch.electrode_id == electrode_id:
                return i
        raise InputError(f"{self.path}: no channel with electrode id {electrode_id} in the header")


@dataclass
class DataBlock:
    timestamp: int
    n_samples: int
    offset: int  # byte offset of the first sample


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1").strip()


def read_nsx_header(path) -> NsxHeader:
    """Read only the header of an ``.ns5`` (fast: used at workflow parse time)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            basic = f.read(NSX_BASIC)
            if len(basic) < NSX_BASIC:
                raise InputError(f"{path}: file is shorter than the {NSX_BASIC}-byte NSx header")
            if basic[:8] != b"NEURALCD":
                raise InputError(
                    f"{path}: not an NSx 2.2/2.3 file (starts with {basic[:8]!r}, expected b'NEURALCD')"
                )
            major, minor = basic[8], basic[9]
            (bytes_in_headers,) = struct.unpack_from("<I", basic, 10)
            label = _text(basic[14:30])
            period, resolution = struct.unpack_from("<II", basic, 286)
            (n_channels,) = struct.unpack_from("<I", basic, 310)
            if bytes_in_headers != NSX_BASIC + NSX_CHANNEL * n_channels:
                raise InputError(
                    f"{path}: header says {n_channels} channels but {bytes_in_headers} header bytes "
                    f"(expected {NSX_BASIC + NSX_CHANNEL * n_channels})"
                )
            ext = f.read(NSX_CHANNEL * n_channels)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    if len(ext) < NSX_CHANNEL * n_channels:
        raise InputError(
            f"{path}: truncated inside the channel headers ({n_channels} channels declared)"
        )
    if period == 0 or resolution == 0:
        raise InputError(f"{path}: sampling period or time resolution is zero in the header")
    rows = np.frombuffer(ext, dtype=_NSX_CHANNEL_DTYPE)
    channels = []
    for row in rows:
        if row["type"] != b"CC":
            raise InputError(f"{path}: channel header has type {row['type']!r}, expected b'CC'")
        ddig = int(row["max_digital"]) - int(row["min_digital"])
        if ddig == 0:
            raise InputError(f"{path}: electrode {row['electrode_id']} has a zero digital range")
        gain = (int(row["max_analog"]) - int(row["min_analog"])) / ddig
        channels.append(
            NsxChannel(
                electrode_id=int(row["electrode_id"]),
                label=_text(row["label"]),
                bank=int(row["connector"]),
                pin=int(row["pin"]),
                gain=gain,
                units=_text(row["units"]),
                hi_corner_hz=row["hi_corner"] / 1000.0,
                hi_order=int(row["hi_order"]),
                hi_type=int(row["hi_type"]),
                lo_corner_hz=row["lo_corner"] / 1000.0,
                lo_order=int(row["lo_order"]),
                lo_type=int(row["lo_type"]),
                max_analog=int(row["max_analog"]),
                min_analog=int(row["min_analog"]),
            )
        )
    return NsxHeader(path, (major, minor), period, resolution, bytes_in_headers, channels, label)


def nsx_data_blocks(header: NsxHeader) -> list[DataBlock]:
    """Walk the data blocks of an NSx 2.2/2.3 file and check they fill the file exactly."""
    path = header.path
    size = path.stat().st_size
    n_ch = len(header.channels)
    pos = header.bytes_in_headers
    blocks = []
    with open(path, "rb") as f:
        while pos < size:
            f.seek(pos)
            head = f.read(9)
            if len(head) < 9:
                raise InputError(
                    f"{path}: truncated data block header at byte {pos} ({len(head)} of 9 bytes)"
                )
            if head[0] != 1:
                raise InputError(f"{path}: data block at byte {pos} does not start with 0x01")
            timestamp, n_samples = struct.unpack_from("<II", head, 1)
            start = pos + 9
            end = start + 2 * n_ch * n_samples
            if end > size:
                avail = size - start
                if (
                    len(blocks) == 0
                    and n_samples
                    and avail % (2 * n_samples) == 0
                    and avail // (2 * n_samples) < n_ch
                ):
                    raise InputError(
                        f"{path}: the header lists {n_ch} channels but the data block holds "
                        f"{n_samples} samples of only {avail // (2 * n_samples)} channels"
                    )
                have = avail // (2 * n_ch) if n_ch else 0
                raise InputError(
                    f"{path}: truncated: data block {len(blocks) + 1} at byte {pos} declares "
                    f"{n_samples} samples x {n_ch} channels but the file holds only {have} "
                    f"(file is {size} bytes, needs {end})"
                )
            blocks.append(DataBlock(timestamp, n_samples, start))
            pos = end
    if not blocks:
        raise InputError(f"{path}: no data blocks after the header")
    return blocks


# ----------------------------------------------------------------------------- writers
def systemtime(when: _dt.datetime) -> bytes:
    return struct.pack(
        "<8H",
        when.year,
        when.month,
        (when.weekday() + 1) % 7,
        when.day,
        when.hour,
        when.minute,
        when.second,
        when.microsecond // 1000,
    )


@dataclass
class ChannelSpec:
    electrode_id: int
    bank: int
    pin: int
    label: str = ""
    max_analog: int = 8191  # uV; with +-32764 digital -> gain 0.25 uV
    max_digital: int = 32764


def nsx_header_bytes(
    channels: list[ChannelSpec],
    period: int = 1,
    when: _dt.datetime | None = None,
    version: tuple[int, int] = (2, 3),
    label: str = "30 kS/s",
    declared_channels: int | None = None,
) -> bytes:
    when = when or _dt.datetime(2018, 11, 5, 10, 0, 0)
    n = len(channels) if declared_channels is None else declared_channels
    basic = b"NEURALCD" + bytes(version)
    basic += struct.pack("<I", NSX_BASIC + NSX_CHANNEL * n)
    basic += label.encode().ljust(16, b"\x00")
    basic += b"hippoflow synthetic recording".ljust(256, b"\x00")
    basic += struct.pack("<II", period, SAMPLING_RATE) + systemtime(when)
    basic += struct.pack("<I", n)
    assert len(basic) == NSX_BASIC
    ext = b""
    for ch in channels:
        ext += b"CC" + struct.pack("<H", ch.electrode_id)
        ext += (ch.label or f"raw {ch.electrode_id}").encode().ljust(16, b"\x00")
        ext += struct.pack(
            "<BBhhhh",
            ch.bank,
            ch.pin,
            -ch.max_digital,
            ch.max_digital,
            -ch.max_analog,
            ch.max_analog,
        )
        ext += b"uV".ljust(16, b"\x00")
        ext += struct.pack("<IIHIIH", 300, 1, 1, 7500000, 3, 1)
    return basic + ext


def nsx_block_header(timestamp: int, n_samples: int) -> bytes:
    return struct.pack("<BII", 1, timestamp, n_samples)


def write_nsx(
    path, channels: list[ChannelSpec], blocks: list[tuple[int, np.ndarray]], **kw
) -> None:
    """Write an NSx file; ``blocks`` = [(timestamp, int16 array (n_samples, n_channels))]."""
    with open(path, "wb") as f:
        f.write(nsx_header_bytes(channels, **kw))
        for timestamp, data in blocks:
            data = np.ascontiguousarray(data, dtype="<i2")
            f.write(nsx_block_header(timestamp, data.shape[0]))
            f.write(data.tobytes())
