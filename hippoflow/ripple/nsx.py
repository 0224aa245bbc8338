"""Blackrock NSx continuous files: the header with its per-channel extended headers, the
data packets, and a writer.

Versions: file spec 2.2 and 2.3 (``NEURALCD``, 32-bit packet time stamps; Ripple's Trellis
writes 2.3) and 3.0 (``BRSMPGRP``, 64-bit packet time stamps, including the layout of one
sample per packet) are read; 2.1 (``NEURALSG``) and any other version are refused with an
:class:`InputError` naming the version.  Channel gains are converted to microvolts from the
channel's units (uV, mV, V, nV); the sampling rate is 30 kHz / period in every version (the
header's time-resolution field is the clock of the packet time stamps only).

Not every channel of an ``.ns5`` is an electrode: Ripple's Trellis stores the NIP's analog
inputs beside the electrodes (labelled ``ainp1``, ``ainp2``, ... with electrode ids from 10241
and units mV), and Blackrock's Central its analog inputs (``ainp1``... after the electrodes).
:func:`non_electrode_reason` says which channels are not electrodes and why (the planner skips
them; see :func:`hippoflow.plan.header_channels` for the array rule of the electrodes).

Inputs: an ``.nsX`` path. Outputs: :class:`NsxHeader` (channels, gains, rate) and
:class:`DataBlock` offsets; the samples themselves are streamed by :mod:`hippoflow.ripple.split`.
The writer makes files neo reads back exactly (synthetic days and bad-input test cases).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hippoflow.errors import InputError

NSX_BASIC = 314
NSX_CHANNEL = 66
SAMPLING_RATE = 30000  # Ripple's time resolution (ticks per second) and the .ns5 rate
NSX_CLOCK = 30000  # the header's sampling period counts 1/30000 s in every file spec
NSX_21_BASIC = 32  # NEURALSG: id, label, period, channel count (then a u32 id per channel)
READ_VERSIONS = {b"NEURALCD": ((2, 2), (2, 3)), b"BRSMPGRP": ((3, 0),)}
# factors from a channel's units to microvolts (spelling as Blackrock and Ripple write them)
TO_MICROVOLTS = {"uV": 1.0, "\u00b5V": 1.0, "\u03bcV": 1.0, "mV": 1e3, "V": 1e6, "nV": 1e-3}
# Channels that are not electrodes (see non_electrode_reason).  Ripple's NIP numbers the
# front-end electrodes from 1 and its analog inputs from 10241 (Trellis labels them ainp1,
# ainp2, ...); Blackrock numbers analog inputs right after the electrodes (129-144 on a
# 128-channel NSP) and labels them ainp1... too, so for its files the label is what tells.
ANALOG_INPUT_FIRST_ID = 10241
ANALOG_INPUT_LABEL = re.compile(r"ainp\s*[0-9]+", re.IGNORECASE)

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
    # the header's physical-connector byte as stored: 0-based in Ripple's files (0 = array01),
    # 1-based in Blackrock's (1 = bank A = array01); plan.header_channels states the rule
    bank: int
    pin: int
    gain: float | None  # microvolts per digital unit (None: the units are not a voltage)
    units: str
    hi_corner_hz: float
    hi_order: int
    hi_type: int
    lo_corner_hz: float
    lo_order: int
    lo_type: int
    max_analog: int
    min_analog: int
    offset: float = 0.0  # microvolts at digital 0 (non-zero only for an asymmetric range)


def non_electrode_reason(ch: NsxChannel) -> str | None:
    """Why a channel of an NSx header is not an electrode to split, or None for an electrode.

    A channel is not an electrode when any of these holds:

    - its units are not a voltage (not one of :data:`TO_MICROVOLTS`: e.g. ``""`` or ``"deg"``);
    - its label marks an analog input (``ainp1``, ``ainp2``... as Trellis and Central write);
    - its electrode id is in Ripple's analog-input range (:data:`ANALOG_INPUT_FIRST_ID` = 10241
      and above; front-end electrodes are numbered below it).

    Electrodes in mV or V are electrodes (their samples are scaled to microvolts: the 128
    ``elec`` channels of Blackrock's test files are in mV); an electrode id of 1000 or more
    below 10241 is an electrode.
    """
    if ch.gain is None:
        return f"units {ch.units!r} are not a voltage"
    if ANALOG_INPUT_LABEL.fullmatch(ch.label.strip()):
        return "labelled as an analog input"
    if ch.electrode_id >= ANALOG_INPUT_FIRST_ID:
        return f"id in the analog-input range ({ANALOG_INPUT_FIRST_ID} and above)"
    return None


def describe_channels(channels: list[NsxChannel]) -> str:
    """One line listing channels with their ids, units and why they are not electrodes."""
    return "; ".join(
        f"{ch.label or '(no label)'} (id {ch.electrode_id}, {ch.units or 'no units'}: "
        f"{non_electrode_reason(ch) or 'electrode'})"
        for ch in channels
    )


@dataclass
class NsxHeader:
    path: Path
    version: tuple[int, int]
    period: int  # samples are period / 30000 s apart
    resolution: int  # ticks per second of the packet time stamps
    bytes_in_headers: int
    channels: list[NsxChannel]
    label: str = ""
    file_id: str = "NEURALCD"

    @property
    def sampling_rate(self) -> float:
        return NSX_CLOCK / self.period

    @property
    def spec(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def packet_header_bytes(self) -> int:
        """Data packet header: flag byte, time stamp (u32 before spec 3.0, u64 from 3.0),
        number of samples (u32)."""
        return 1 + (8 if self.version[0] >= 3 else 4) + 4

    def electrodes(self) -> list[NsxChannel]:
        """The channels that are electrodes (see :func:`non_electrode_reason`), in file order."""
        return [ch for ch in self.channels if non_electrode_reason(ch) is None]

    def non_electrodes(self) -> list[NsxChannel]:
        """The other channels (analog inputs, non-voltage units), in file order."""
        return [ch for ch in self.channels if non_electrode_reason(ch) is not None]

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
    # 0: the samples are contiguous frames of the channels; > 0: a run of packets of one
    # sample each (spec 3.0 as Gemini writes it), ``stride`` bytes apart, whose headers
    # (flag 1, one sample) are checked while streaming
    stride: int = 0


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1").strip()


def _units(raw: bytes) -> str:
    raw = raw.split(b"\x00", 1)[0]
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return raw.decode("latin-1").strip()


def _refuse_21(path: Path, basic: bytes) -> InputError:
    """The message for a spec 2.1 file: what its header holds and what to do."""
    detail = ""
    if len(basic) >= NSX_21_BASIC:
        period, n_channels = struct.unpack_from("<II", basic, 24)
        if period:
            detail = f" ({n_channels} channels at {NSX_CLOCK / period:g} Hz)"
    return InputError(
        f"{path}: file spec 2.1 (NEURALSG){detail} is not supported: its header lists only "
        "channel ids, without gains, units or connectors, so its samples cannot be put in "
        "microvolts nor its channels on arrays (spec 2.1 keeps the gains in the .nev). Convert "
        "the file to spec 2.2 or later (e.g. with Blackrock's file conversion utility, or "
        "NPMK's openNSx/saveNSx) and run again"
    )


def read_nsx_header(path) -> NsxHeader:
    """Read only the header of an ``.nsX`` (fast: used at workflow parse time).

    Reads file spec 2.2/2.3 (``NEURALCD``) and 3.0 (``BRSMPGRP``); refuses 2.1
    (``NEURALSG``) and other versions with a message naming the version.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            basic = f.read(NSX_BASIC)
            if basic[:8] == b"NEURALSG":
                raise _refuse_21(path, basic)
            if len(basic) < NSX_BASIC:
                raise InputError(f"{path}: file is shorter than the {NSX_BASIC}-byte NSx header")
            file_id = basic[:8]
            major, minor = basic[8], basic[9]
            if file_id not in READ_VERSIONS:
                raise InputError(
                    f"{path}: not an NSx file (starts with {file_id!r}, expected b'NEURALCD' "
                    "for file spec 2.2/2.3 or b'BRSMPGRP' for 3.0)"
                )
            if (major, minor) not in READ_VERSIONS[file_id]:
                known = " or ".join(f"{a}.{b}" for a, b in READ_VERSIONS[file_id])
                raise InputError(
                    f"{path}: file spec {major}.{minor} ({file_id.decode()}) is not supported "
                    f"(a {file_id.decode()} header is spec {known}); convert the file to spec "
                    "2.3 or 3.0 and run again"
                )
            (bytes_in_headers,) = struct.unpack_from("<I", basic, 10)
            label = _text(basic[14:30])
            period, resolution = struct.unpack_from("<II", basic, 286)
            (n_channels,) = struct.unpack_from("<I", basic, 310)
            # sizes from the header are checked against the file before anything is read
            size = os.fstat(f.fileno()).st_size
            if NSX_BASIC + NSX_CHANNEL * n_channels > size:
                raise InputError(
                    f"{path}: header field 'channel count' says {n_channels} ({n_channels} x "
                    f"{NSX_CHANNEL} = {NSX_CHANNEL * n_channels} bytes of channel headers after "
                    f"the {NSX_BASIC}-byte basic header) but the file is only {size} bytes: the "
                    "field is corrupt or the file truncated"
                )
            if bytes_in_headers > size:
                raise InputError(
                    f"{path}: header field 'bytes in headers' says {bytes_in_headers} but the "
                    f"file is only {size} bytes: the field is corrupt or the file truncated"
                )
            if bytes_in_headers != NSX_BASIC + NSX_CHANNEL * n_channels:
                raise InputError(
                    f"{path}: header says {n_channels} channels but {bytes_in_headers} header bytes "
                    f"(expected {NSX_BASIC + NSX_CHANNEL * n_channels} = {NSX_BASIC} + "
                    f"{n_channels} x {NSX_CHANNEL}: field 'bytes in headers' or 'channel count' "
                    "is corrupt)"
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
    names = rows.dtype.names
    channels = []
    # as Python values (tolist): a field of a numpy record costs ~1 us, and planning reads
    # every header of the tree (46 days: 92 files x 126 channels x 16 fields)
    for row in (dict(zip(names, rec, strict=True)) for rec in rows.tolist()):
        if row["type"] != b"CC":
            raise InputError(f"{path}: channel header has type {row['type']!r}, expected b'CC'")
        ddig = int(row["max_digital"]) - int(row["min_digital"])
        if ddig == 0:
            raise InputError(f"{path}: electrode {row['electrode_id']} has a zero digital range")
        units = _units(row["units"])
        # as neo: value = digital * gain + offset, in the channel's units
        gain = (int(row["max_analog"]) - int(row["min_analog"])) / ddig
        offset = int(row["min_analog"]) - int(row["min_digital"]) * gain
        scale = TO_MICROVOLTS.get(units)
        channels.append(
            NsxChannel(
                electrode_id=int(row["electrode_id"]),
                label=_text(row["label"]),
                bank=int(row["connector"]),
                pin=int(row["pin"]),
                gain=None if scale is None else gain * scale,
                units=units,
                hi_corner_hz=row["hi_corner"] / 1000.0,
                hi_order=int(row["hi_order"]),
                hi_type=int(row["hi_type"]),
                lo_corner_hz=row["lo_corner"] / 1000.0,
                lo_order=int(row["lo_order"]),
                lo_type=int(row["lo_type"]),
                max_analog=int(row["max_analog"]),
                min_analog=int(row["min_analog"]),
                offset=0.0 if scale is None else offset * scale,
            )
        )
    return NsxHeader(
        path,
        (major, minor),
        period,
        resolution,
        bytes_in_headers,
        channels,
        label,
        file_id.decode(),
    )


def _one_sample_packet(head: bytes, ts_fmt: str) -> bool:
    return (
        len(head) == struct.calcsize(ts_fmt)
        and head[0] == 1
        and struct.unpack(ts_fmt, head)[2] == 1
    )


def nsx_data_blocks(header: NsxHeader) -> list[DataBlock]:
    """Walk the data packets of an NSx file and check they fill the file exactly.

    A packet is a header (flag 1, time stamp, number of samples; 9 bytes before spec 3.0,
    13 from 3.0) and its samples.  A file of packets of one sample each (spec 3.0 as Gemini
    hubs write it: millions of packets) is returned as one strided block, its packet headers
    checked while streaming.
    """
    path = header.path
    size = path.stat().st_size
    n_ch = len(header.channels)
    hsize = header.packet_header_bytes
    ts_fmt = "<BQI" if hsize == 13 else "<BII"
    pos = header.bytes_in_headers
    frame = 2 * n_ch
    blocks = []
    with open(path, "rb") as f:
        f.seek(pos)
        first = f.read(hsize)
        packet = hsize + frame
        n_packets = (size - pos) // packet
        if (
            len(first) == hsize
            and n_ch
            and (size - pos) % packet == 0
            and n_packets > 1
            and _one_sample_packet(first, ts_fmt)
        ):
            # probe the last packet and a few on the way (streaming checks them all)
            probes = np.unique(np.linspace(0, n_packets - 1, num=min(n_packets, 65)).astype(int))
            ok = True
            for k in probes:
                f.seek(pos + int(k) * packet)
                ok = ok and _one_sample_packet(f.read(hsize), ts_fmt)
            if ok:
                ts0 = struct.unpack(ts_fmt, first)[1]
                return [DataBlock(ts0, n_packets, pos + hsize, stride=packet)]
        while pos < size:
            f.seek(pos)
            head = f.read(hsize)
            if len(head) < hsize:
                raise InputError(
                    f"{path}: truncated data block header at byte {pos} "
                    f"({len(head)} of {hsize} bytes)"
                )
            if head[0] != 1:
                raise InputError(f"{path}: data block at byte {pos} does not start with 0x01")
            _, timestamp, n_samples = struct.unpack(ts_fmt, head)
            start = pos + hsize
            end = start + frame * n_samples
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
                have = avail // frame if n_ch else 0
                raise InputError(
                    f"{path}: truncated: data block {len(blocks) + 1} at byte {pos} declares "
                    f"{n_samples} samples x {n_ch} channels but the file holds only {have} "
                    f"(file is {size} bytes, needs {end}; or the block header's field 'number "
                    "of samples' is corrupt)"
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
    units: str = "uV"


def nsx_header_bytes(
    channels: list[ChannelSpec],
    period: int = 1,
    when: _dt.datetime | None = None,
    version: tuple[int, int] = (2, 3),
    label: str = "30 kS/s",
    declared_channels: int | None = None,
    resolution: int = SAMPLING_RATE,
) -> bytes:
    """Basic and channel headers; ``version`` (3, 0) writes a ``BRSMPGRP`` header."""
    when = when or _dt.datetime(2018, 11, 5, 10, 0, 0)
    n = len(channels) if declared_channels is None else declared_channels
    basic = (b"BRSMPGRP" if version[0] >= 3 else b"NEURALCD") + bytes(version)
    basic += struct.pack("<I", NSX_BASIC + NSX_CHANNEL * n)
    basic += label.encode().ljust(16, b"\x00")
    basic += b"hippoflow synthetic recording".ljust(256, b"\x00")
    basic += struct.pack("<II", period, resolution) + systemtime(when)
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
        ext += ch.units.encode().ljust(16, b"\x00")
        ext += struct.pack("<IIHIIH", 300, 1, 1, 7500000, 3, 1)
    return basic + ext


def nsx_block_header(timestamp: int, n_samples: int, version: tuple[int, int] = (2, 3)) -> bytes:
    """Data packet header: 32-bit time stamp before spec 3.0, 64-bit from 3.0."""
    return struct.pack("<BQI" if version[0] >= 3 else "<BII", 1, timestamp, n_samples)


def write_nsx(
    path, channels: list[ChannelSpec], blocks: list[tuple[int, np.ndarray]], **kw
) -> None:
    """Write an NSx file; ``blocks`` = [(timestamp, int16 array (n_samples, n_channels))]."""
    version = kw.get("version", (2, 3))
    with open(path, "wb") as f:
        f.write(nsx_header_bytes(channels, **kw))
        for timestamp, data in blocks:
            data = np.ascontiguousarray(data, dtype="<i2")
            f.write(nsx_block_header(timestamp, data.shape[0], version))
            f.write(data.tobytes())
