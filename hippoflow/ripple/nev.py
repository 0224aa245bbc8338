"""Blackrock NEV event files as Ripple's Trellis writes them: header checks, the
parallel-port (digital input) events read natively for validation and through neo for the
markers, and a writer for synthetic files.

A Trellis ``.nev`` (file spec 2.3) carries, besides the digital events, 32-byte extended
headers per electrode (``NEUEVWAV`` waveform/connector, ``NEUEVLBL`` label, ``NEUEVFLT``
spike filter), the digital input's label (``DIGLABEL``), and data packets of other kinds:
spike events (packet id = electrode id) and comments (packet id 0xFFFF).  Only the digital
input port's packets (packet id 0, insertion reason bit 0 set and bit 7, the serial port,
clear: neo's ``digital_input_port``) are markers; everything else is counted and ignored.

Another vendor's file with a ``.nev`` name (a Neuralynx event file, which starts with a
16 kB text header ``######## Neuralynx Data File Header``) is refused by its content.

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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hippoflow.errors import InputError
from hippoflow.ripple.nsx import SAMPLING_RATE, read_nsx_header, systemtime

log = logging.getLogger(__name__)

NEV_BASIC = 336
NEV_EXTENDED = 32
NEV_ID = b"NEURALEV"
COMMENT_PACKET = 0xFFFF
DIGITAL_PACKET = 0
PACKET_MIN = 12  # the file spec's range of 'bytes in data packets'
PACKET_MAX = 1024
SNIFF_BYTES = 16384  # a Neuralynx header's size: enough to recognise every kind below

# What a file that is not a NEV looks like, recognised by how it starts
_OTHER_KINDS = (
    (
        b"######## Neuralynx",
        "a Neuralynx file (it starts with the 16 kB text header "
        "'######## Neuralynx Data File Header'; Neuralynx event files also end in .nev)",
    ),
    (b"NEURALCD", "a Blackrock/Ripple NSx continuous file (file spec 2.2/2.3), not events"),
    (b"BRSMPGRP", "a Blackrock NSx continuous file (file spec 3.0), not events"),
    (b"NEURALSG", "a Blackrock NSx continuous file (file spec 2.1), not events"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file (e.g. NWB or a saved object)"),
    (b"PLEX", "a Plexon file"),
)


def _looks_like(head: bytes) -> str:
    """What the start of a non-NEV file looks like (for the refusal message)."""
    if not head:
        return "an empty file"
    for magic, kind in _OTHER_KINDS:
        if head.startswith(magic):
            return kind
    if b"Neuralynx" in head[:SNIFF_BYTES]:
        return "a Neuralynx file (its text header names Neuralynx)"
    text = head[:512]
    if all(32 <= c < 127 or c in (9, 10, 13) for c in text):
        return f"a text file (it starts with {text[:40].decode('ascii')!r})"
    return f"an unknown file (it starts with {head[:8]!r})"


@dataclass
class NevHeader:
    path: Path
    version: tuple[int, int]
    flags: int
    bytes_in_headers: int
    packet_size: int
    resolution: int
    extended: list[bytes] = field(default_factory=list)
    application: str = ""

    @property
    def extended_kinds(self) -> Counter:
        """Number of extended headers of each kind (``NEUEVWAV``, ``DIGLABEL``...)."""
        return Counter(_text(e[:8]) for e in self.extended)

    def digital_labels(self) -> list[tuple[str, int]]:
        """(label, mode) of each ``DIGLABEL`` header (mode 0 serial, 1 parallel)."""
        return [(_text(e[8:24]), e[24]) for e in self.extended if e[:8] == b"DIGLABEL"]

    def electrode_labels(self) -> dict[int, str]:
        """Electrode id -> label of the ``NEUEVLBL`` headers."""
        return {
            struct.unpack_from("<H", e, 8)[0]: _text(e[10:26])
            for e in self.extended
            if e[:8] == b"NEUEVLBL"
        }

    def electrode_connectors(self) -> dict[int, int]:
        """Electrode id -> physical connector byte of the ``NEUEVWAV`` headers."""
        return {
            struct.unpack_from("<H", e, 8)[0]: e[10] for e in self.extended if e[:8] == b"NEUEVWAV"
        }


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1").strip()


def _check_header_sizes(path, size: int, bytes_in_headers: int, n_ext: int, packet_size: int):
    """The basic header's size fields against each other and against the file's size."""
    ext_bytes = NEV_EXTENDED * n_ext
    if NEV_BASIC + ext_bytes > size:
        raise InputError(
            f"{path}: header field 'number of extended headers' says {n_ext} "
            f"({n_ext} x {NEV_EXTENDED} = {ext_bytes} bytes after the {NEV_BASIC}-byte basic "
            f"header) but the file is only {size} bytes: the field is corrupt or the file "
            "truncated"
        )
    if bytes_in_headers > size:
        raise InputError(
            f"{path}: header field 'bytes in headers' says {bytes_in_headers} but the file is "
            f"only {size} bytes: the field is corrupt or the file truncated"
        )
    if bytes_in_headers != NEV_BASIC + ext_bytes:
        raise InputError(
            f"{path}: header field 'bytes in headers' says {bytes_in_headers} but "
            f"{n_ext} extended headers make {NEV_BASIC + ext_bytes} "
            f"({NEV_BASIC} + {n_ext} x {NEV_EXTENDED}): one of the two fields is corrupt"
        )
    if not PACKET_MIN <= packet_size <= PACKET_MAX or packet_size % 4:
        raise InputError(
            f"{path}: header field 'bytes in data packets' says {packet_size}: a NEV packet "
            f"is a multiple of 4 bytes from {PACKET_MIN} to {PACKET_MAX}; the field is corrupt"
        )
    data = size - bytes_in_headers
    if data and packet_size > data:
        raise InputError(
            f"{path}: header field 'bytes in data packets' says {packet_size} but only {data} "
            f"bytes follow the {bytes_in_headers} header bytes: not one whole packet; the "
            "field is corrupt or the file truncated"
        )


def read_nev_header(path) -> NevHeader:
    """The basic and extended headers of a NEV file.

    A file that does not start with ``NEURALEV`` is refused naming what it looks like
    (a Neuralynx event file, an NSx file renamed, text...).
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            basic = f.read(NEV_BASIC)
            if basic[:8] != NEV_ID:
                head = basic + f.read(SNIFF_BYTES - len(basic))
                raise InputError(
                    f"{path}: not a Blackrock/Ripple NEV file: it looks like "
                    f"{_looks_like(head)}. A NEV file starts with {NEV_ID!r}: this workflow "
                    "reads the .nev that Ripple's Trellis writes beside the session's .ns5"
                )
            if len(basic) < NEV_BASIC:
                raise InputError(f"{path}: file is shorter than the {NEV_BASIC}-byte NEV header")
            major, minor = basic[8], basic[9]
            flags, bytes_in_headers, packet_size, resolution = struct.unpack_from(
                "<HIII", basic, 10
            )
            application = _text(basic[44:76])
            (n_ext,) = struct.unpack_from("<I", basic, 332)
            size = os.fstat(f.fileno()).st_size
            # sizes from the header are checked against the file before anything is read
            _check_header_sizes(path, size, bytes_in_headers, n_ext, packet_size)
            ext = f.read(NEV_EXTENDED * n_ext)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    if len(ext) < NEV_EXTENDED * n_ext:
        raise InputError(f"{path}: truncated inside the extended headers")
    if resolution == 0:
        raise InputError(
            f"{path}: time resolution is 0 ticks per second in the header: event time "
            "stamps cannot be put in seconds"
        )
    extended = [ext[i : i + NEV_EXTENDED] for i in range(0, len(ext), NEV_EXTENDED)]
    return NevHeader(
        path,
        (major, minor),
        flags,
        bytes_in_headers,
        packet_size,
        resolution,
        extended,
        application,
    )


def _packets(header: NevHeader) -> np.ndarray:
    """Every whole data packet of the file (memory-mapped): time stamp, packet id, reason,
    value (the digital input word for digital packets)."""
    path = header.path
    if header.packet_size < 16 or header.packet_size % 4:
        raise InputError(f"{path}: packet size {header.packet_size} is not a valid NEV packet size")
    size = path.stat().st_size
    n = max(0, (size - header.bytes_in_headers) // header.packet_size)
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
    if n == 0:
        return np.zeros(0, dtype=rec)
    return np.memmap(path, dtype=rec, mode="r", offset=header.bytes_in_headers, shape=(n,))


def _packet_fields(path: Path, offset: int, packet_size: int, limit: int | None = None):
    """Time stamp, packet id and reason byte of every whole packet (at most ``limit``) read at
    a given packet size (memory-mapped)."""
    size = path.stat().st_size
    n = max(0, (size - offset) // packet_size)
    if limit is not None:
        n = min(n, limit)
    rec = np.dtype(
        [
            ("timestamp", "<u4"),
            ("packet_id", "<u2"),
            ("reason", "u1"),
            ("rest", f"V{packet_size - 7}"),
        ]
    )
    if n == 0:
        return np.zeros(0, dtype=rec)
    return np.memmap(path, dtype=rec, mode="r", offset=offset, shape=(n,))


def _stream_faults(packets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(packets going back in time, packets that cannot be packets: id 0 with reason 0, i.e.
    a digital event that reports no change, which is what zero padding read as a packet
    looks like)."""
    back = np.flatnonzero(np.diff(packets["timestamp"].astype(np.int64)) < 0) + 1
    empty = np.flatnonzero((packets["packet_id"] == DIGITAL_PACKET) & (packets["reason"] == 0))
    return back, empty


def check_packet_size(header: NevHeader) -> None:
    """Refuse a corrupt 'bytes in data packets' field.

    Read at their true size, a file's packets (all kinds) are in time order and none is a
    digital packet without a reason.  When at the declared size they are not, but at another
    size they are (sizes that are multiples of the declared one are no evidence: any good
    stream also reads well at them), the field is wrong; when at the declared size packets
    both go back in time and read as empty digital packets, the field or the file is damaged.
    A stream that is only out of time order is left to the digital-event check.
    """
    packets = _packet_fields(header.path, header.bytes_in_headers, header.packet_size)
    back, empty = _stream_faults(packets)
    if not back.size and not empty.size:
        return
    where = header.packet_size
    data_bytes = Path(header.path).stat().st_size - header.bytes_in_headers
    for size in range(max(PACKET_MIN, 8), PACKET_MAX + 1, 4):
        # a recorder writes whole packets: only a size the data section divides into can be
        # the true one (a stream merely out of time order has no such other size)
        if size % header.packet_size == 0 or data_bytes % size:
            continue
        other = _packet_fields(header.path, header.bytes_in_headers, size, limit=4096)
        if other.size >= 2 and not any(f.size for f in _stream_faults(other)):
            i = int(back[0]) if back.size else int(empty[0])
            raise InputError(
                f"{header.path}: header field 'bytes in data packets' says {where}, but read "
                f"at that size {_fault(packets, i, back)}, while at {size} bytes every packet "
                "reads well and in time order: the field is corrupt"
            )
    if back.size and empty.size:
        i = int(min(back[0], empty[0]))
        raise InputError(
            f"{header.path}: read at the header's packet size ({where} bytes: field 'bytes in "
            f"data packets') {_fault(packets, i, back)}: the field is corrupt or the file "
            "damaged"
        )


def _fault(packets: np.ndarray, i: int, back: np.ndarray) -> str:
    ts = packets["timestamp"]
    if i in set(back.tolist()):
        return f"packet {i} goes back in time ({ts[i - 1]} then {ts[i]} ticks)"
    return f"packet {i} is a digital packet with no reason bit (not a packet)"


def _digital_mask(packets: np.ndarray) -> np.ndarray:
    """The digital input port's packets: id 0, reason bit 0 set and bit 7 (serial) clear."""
    reason = packets["reason"]
    return (packets["packet_id"] == DIGITAL_PACKET) & ((reason & 1) > 0) & ((reason & 0x80) == 0)


def read_nev_digital(path) -> tuple[np.ndarray, np.ndarray]:
    """Digital input port events of a NEV file as (timestamps in ticks, values), natively.

    The same events neo calls ``digital_input_port``; spike, comment and serial-port packets
    are left out.  Used for validation with precise messages; the workflow reads markers
    with neo.
    """
    header = read_nev_header(path)
    packets = _packets(header)
    digital = packets[_digital_mask(packets)]
    return np.asarray(digital["timestamp"], dtype=np.int64), np.asarray(digital["value"], np.int64)


def packet_counts(path) -> dict[str, int]:
    """Data packets of each kind: digital (the markers), comments, spikes, other."""
    header = read_nev_header(path)
    packets = _packets(header)
    ids = packets["packet_id"]
    digital = _digital_mask(packets)
    comments = ids == COMMENT_PACKET
    spikes = (ids > 0) & (ids < 0x8000)
    return {
        "digital": int(digital.sum()),
        "comments": int(comments.sum()),
        "spikes": int(spikes.sum()),
        "other": int((~(digital | comments | spikes)).sum()),
    }


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
    check_packet_size(header)
    extra = (nev_path.stat().st_size - header.bytes_in_headers) % header.packet_size
    if extra:
        log.warning("%s: %d trailing bytes of a truncated final packet ignored", nev_path, extra)
    ticks, _ = read_nev_digital(nev_path)
    counts = packet_counts(nev_path)
    ignored = {k: v for k, v in counts.items() if k != "digital" and v}
    kinds = header.extended_kinds
    log.info(
        "%s: file spec %d.%d from %r; extended headers: %s; %d digital input packets%s",
        nev_path,
        *header.version,
        header.application,
        ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none",
        counts["digital"],
        "; ignored: " + ", ".join(f"{n} {k}" for k, n in ignored.items()) if ignored else "",
    )
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


@dataclass
class NevElectrode:
    """One electrode's extended headers as Trellis writes them: ``NEUEVWAV`` (connector, pin,
    waveform scale and threshold), ``NEUEVLBL`` (label) and ``NEUEVFLT`` (spike filter; corner
    frequencies in mHz, as the file stores them)."""

    electrode_id: int
    connector: int
    pin: int
    label: str = ""
    digitization_nv: int = 250  # nV per waveform unit
    threshold: int = -200  # waveform units
    spike_width: int = 48  # samples per waveform
    hi_corner_mhz: int = 250_000
    hi_order: int = 4
    hi_type: int = 1  # 1: Butterworth
    lo_corner_mhz: int = 7_500_000
    lo_order: int = 3
    lo_type: int = 1


def nev_extended_headers(
    electrodes=(), digital_label: tuple[str, int] | None = None
) -> list[bytes]:
    """32-byte extended headers: per electrode NEUEVWAV, NEUEVLBL, NEUEVFLT (in that order,
    electrode by electrode), then DIGLABEL ((label, mode): mode 1 parallel, 0 serial)."""
    out = []
    for el in electrodes:
        out.append(
            b"NEUEVWAV"
            + struct.pack(
                "<HBBHHhhBBH8x",
                el.electrode_id,
                el.connector,
                el.pin,
                el.digitization_nv,
                0,
                -el.threshold,
                el.threshold,
                0,
                2,
                el.spike_width,
            )
        )
        label = (el.label or f"elec {el.electrode_id}").encode()[:16]
        out.append(b"NEUEVLBL" + struct.pack("<H", el.electrode_id) + label.ljust(22, b"\x00"))
        out.append(
            b"NEUEVFLT"
            + struct.pack(
                "<HIIHIIH2x",
                el.electrode_id,
                el.hi_corner_mhz,
                el.hi_order,
                el.hi_type,
                el.lo_corner_mhz,
                el.lo_order,
                el.lo_type,
            )
        )
    if digital_label is not None:
        label, mode = digital_label
        out.append(b"DIGLABEL" + label.encode()[:16].ljust(16, b"\x00") + bytes([mode]) + bytes(7))
    assert all(len(e) == NEV_EXTENDED for e in out)
    return out


def comment_packet(timestamp: int, text: str, packet_size: int, color: int = 0) -> bytes:
    """A comment packet (file spec 2.3): id 0xFFFF, character set 0 (ANSI), flag 0 (the
    next field is an RGBA colour), then the text, NUL-padded to the packet size."""
    raw = text.encode("latin-1")
    room = packet_size - 12
    if len(raw) > room:
        raise ValueError(
            f"comment of {len(raw)} characters does not fit a {packet_size}-byte packet"
        )
    return struct.pack("<IHBBI", int(timestamp), COMMENT_PACKET, 0, 0, color) + raw.ljust(
        room, b"\x00"
    )


def write_nev(
    path,
    timestamps,
    values,
    packet_size: int = 104,
    version: tuple[int, int] = (2, 3),
    flags: int = 1,
    when: _dt.datetime | None = None,
    resolution: int = SAMPLING_RATE,
    electrodes=(),
    digital_label: tuple[str, int] | None = None,
    comments=(),
    application: str = "hippoflow generator",
) -> None:
    """Write a NEV file holding parallel-port digital events (reason 1); ``resolution``:
    time-stamp ticks per second (the waveform sample resolution stays 30 kHz).

    Trellis-style extras: ``electrodes`` (:class:`NevElectrode`: NEUEVWAV, NEUEVLBL,
    NEUEVFLT headers), ``digital_label`` (DIGLABEL) and ``comments`` ((tick, text) comment
    packets, placed among the digital events in time order).  The digital events are written
    in the order given (a test may give them out of order).
    """
    when = when or _dt.datetime(2018, 11, 5, 10, 0, 0)
    ext = nev_extended_headers(electrodes, digital_label)
    basic = NEV_ID + bytes(version)
    basic += struct.pack(
        "<HIIII", flags, NEV_BASIC + NEV_EXTENDED * len(ext), packet_size, resolution, SAMPLING_RATE
    )
    basic += systemtime(when)
    basic += application.encode()[:32].ljust(32, b"\x00")
    basic += b"synthetic parallel-port markers".ljust(256, b"\x00")
    basic += struct.pack("<I", len(ext))
    assert len(basic) == NEV_BASIC
    pending = sorted(comments, key=lambda c: c[0])
    body = bytearray()
    for ts, val in zip(timestamps, values, strict=True):
        while pending and pending[0][0] <= int(ts):
            body += comment_packet(*pending.pop(0), packet_size)
        packet = struct.pack("<IHBBH", int(ts), DIGITAL_PACKET, 1, 0, int(val))
        body += packet.ljust(packet_size, b"\x00")
    for tick, text in pending:
        body += comment_packet(tick, text, packet_size)
    with open(path, "wb") as f:
        f.write(basic)
        f.write(b"".join(ext))
        f.write(bytes(body))
