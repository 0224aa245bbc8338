"""Sizes read from .nev/.ns5 headers are checked against the file before anything is
allocated, and a corrupt packet-size field is reported as such; a Unity log whose trial
targets a poster missing from its header names the file and the line.

Broken files are made from generated ones by overwriting one header field (offsets from the
file specs: NEV basic header bytes in headers at 12, bytes per packet at 16, number of extended
headers at 332; NSx bytes in headers at 10, channel count at 310); every expected number is
stated here or taken from the file's size, never from the reader under test.
"""

from __future__ import annotations

import shutil
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from hippoflow.behaviour import unity
from hippoflow.errors import InputError
from hippoflow.ripple import nsx
from hippoflow.ripple.nev import read_nev_events, read_nev_header, write_nev

DAY = ("picasso", "20181105", "session01")


@pytest.fixture(scope="module")
def files(small_day):
    session = small_day.joinpath(*DAY)
    return session / "181105_Block1.nev", session / "181105_Block1.ns5"


def patched(src: Path, dst: Path, fmt: str, offset: int, value: int) -> Path:
    data = bytearray(src.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    dst.write_bytes(bytes(data))
    return dst


def refused(fn, path) -> str:
    t0 = time.monotonic()
    with pytest.raises(InputError) as exc:
        fn(path)
    assert time.monotonic() - t0 < 5, "refused from the header, without reading the data"
    return str(exc.value)


# ----------------------------------------------------------------------------- .nev
def test_huge_extended_header_count_is_refused_before_reading(files, tmp_path):
    nev = patched(files[0], tmp_path / "a.nev", "<I", 332, 0xFFFFFFFF)
    size = nev.stat().st_size
    assert refused(read_nev_events, nev) == (
        f"{nev}: header field 'number of extended headers' says 4294967295 "
        "(4294967295 x 32 = 137438953440 bytes after the 336-byte basic header) but the file "
        f"is only {size} bytes: the field is corrupt or the file truncated"
    )


def test_huge_bytes_in_headers_is_refused(files, tmp_path):
    nev = patched(files[0], tmp_path / "a.nev", "<I", 12, 2**31)
    assert refused(read_nev_header, nev) == (
        f"{nev}: header field 'bytes in headers' says 2147483648 but the file is only "
        f"{nev.stat().st_size} bytes: the field is corrupt or the file truncated"
    )


def test_extended_count_disagreeing_with_header_size_names_both(files, tmp_path):
    n_ext = struct.unpack_from("<I", files[0].read_bytes(), 332)[0]
    nev = patched(files[0], tmp_path / "a.nev", "<I", 332, n_ext - 1)
    assert refused(read_nev_header, nev) == (
        f"{nev}: header field 'bytes in headers' says {336 + 32 * n_ext} but {n_ext - 1} "
        f"extended headers make {336 + 32 * (n_ext - 1)} (336 + {n_ext - 1} x 32): one of the "
        "two fields is corrupt"
    )


@pytest.mark.parametrize("value", [0, 13, 4096, 2**31])
def test_packet_size_outside_the_spec_is_named(files, tmp_path, value):
    nev = patched(files[0], tmp_path / "a.nev", "<I", 16, value)
    assert refused(read_nev_events, nev) == (
        f"{nev}: header field 'bytes in data packets' says {value}: a NEV packet is a multiple "
        "of 4 bytes from 12 to 1024; the field is corrupt"
    )


@pytest.fixture(scope="module")
def long_nev(tmp_path_factory):
    """A Trellis-style .nev of 40 trials (the generated 20 s sessions hold one)."""
    path = tmp_path_factory.mktemp("nev") / "long.nev"
    codes = [84] + [c for t in range(40) for c in (11 + t % 6, 21 + t % 6, 31 + t % 6)]
    ticks, values = [], []
    for i, c in enumerate(codes):
        ticks += [15000 + 9000 * i, 15000 + 9000 * i + 30]
        values += [c, 0]
    comments = [(15000 + 9000 * k + 4000, f"note {k}") for k in range(0, 120, 7)]
    write_nev(path, ticks, values, comments=comments)
    return path, np.array(values), np.array(ticks) / 30000


@pytest.mark.parametrize("value", [100, 108, 96])
def test_corrupt_packet_size_is_reported_not_as_missing_events(long_nev, tmp_path, value):
    path, values, times = long_nev
    codes, got = read_nev_events(path)  # the good file: every event, at 104-byte packets
    np.testing.assert_array_equal(codes, values)
    np.testing.assert_allclose(got, times)
    nev = patched(path, tmp_path / "a.nev", "<I", 16, value)
    message = refused(read_nev_events, nev)
    assert message.startswith(f"{nev}: header field 'bytes in data packets' says {value}, ")
    assert message.endswith(
        "while at 104 bytes every packet reads well and in time order: the field is corrupt"
    )


def test_packets_really_out_of_order_keep_their_own_message(long_nev, tmp_path):
    path = long_nev[0]
    header = read_nev_header(path)
    data = bytearray(path.read_bytes())
    a = header.bytes_in_headers + 4 * 104  # swap two digital packets (events 4 and 5)
    data[a : a + 104], data[a + 104 : a + 208] = data[a + 104 : a + 208], data[a : a + 104]
    nev = tmp_path / "swapped.nev"
    nev.write_bytes(bytes(data))
    assert "packets out of time order at digital event 4" in refused(read_nev_events, nev)


# ----------------------------------------------------------------------------- .ns5
def test_huge_channel_count_is_refused_before_reading(files, tmp_path):
    ns5 = patched(files[1], tmp_path / "a.ns5", "<I", 310, 0xFFFFFFFF)
    assert refused(nsx.read_nsx_header, ns5) == (
        f"{ns5}: header field 'channel count' says 4294967295 (4294967295 x 66 = 283467841470 "
        "bytes of channel headers after the 314-byte basic header) but the file is only "
        f"{ns5.stat().st_size} bytes: the field is corrupt or the file truncated"
    )


def test_consistent_but_huge_header_size_is_refused(files, tmp_path):
    n = 60_000_000  # 3.96 GB of channel headers, both fields agreeing
    ns5 = patched(files[1], tmp_path / "a.ns5", "<I", 310, n)
    patched(ns5, ns5, "<I", 10, 314 + 66 * n)
    message = refused(nsx.read_nsx_header, ns5)
    assert message.startswith(f"{ns5}: header field 'channel count' says 60000000 (")
    assert f"the file is only {ns5.stat().st_size} bytes" in message


def test_huge_bytes_in_headers_of_ns5_is_refused(files, tmp_path):
    ns5 = patched(files[1], tmp_path / "a.ns5", "<I", 10, 2**31)
    assert refused(nsx.read_nsx_header, ns5) == (
        f"{ns5}: header field 'bytes in headers' says 2147483648 but the file is only "
        f"{ns5.stat().st_size} bytes: the field is corrupt or the file truncated"
    )


def test_huge_data_block_length_names_the_field(files, tmp_path):
    raw = files[1].read_bytes()
    start = struct.unpack_from("<I", raw, 10)[0]  # first data block header
    n_ch = struct.unpack_from("<I", raw, 310)[0]
    ns5 = patched(files[1], tmp_path / "a.ns5", "<I", start + 5, 0xFFFFFFFF)
    header = nsx.read_nsx_header(ns5)
    message = refused(nsx.nsx_data_blocks, header)
    size = ns5.stat().st_size
    assert message == (
        f"{ns5}: truncated: data block 1 at byte {start} declares 4294967295 samples x {n_ch} "
        f"channels but the file holds only {(size - start - 9) // (2 * n_ch)} (file is {size} "
        f"bytes, needs {start + 9 + 2 * n_ch * 0xFFFFFFFF}; or the block header's field "
        "'number of samples' is corrupt)"
    )


# ----------------------------------------------------------------------------- Unity
def test_unity_poster_absent_from_the_header_names_file_and_line(small_day, tmp_path):
    src = next(small_day.joinpath(*DAY).glob("RawData*/session*.txt"))
    dst = tmp_path / "RawData_T1-400" / src.name
    dst.parent.mkdir()
    shutil.copy(src, dst)
    lines = dst.read_text().splitlines()
    # the trials' end markers (3x/4x) and their lines, read from the text
    ends = [
        (i + 1, int(s.split()[0]))
        for i, s in enumerate(lines)
        if s.split() and s.split()[0].isdigit() and int(s.split()[0]) // 10 in (3, 4)
    ]
    end_no, end_code = ends[0]
    target = end_code % 10
    k = next(i for i, s in enumerate(lines) if s.startswith("PosterLocations:"))
    kept = [p for p in lines[k].split()[1:] if not p.startswith(f"P{target}(")]
    lines[k] = "PosterLocations: " + " ".join(kept)
    dst.write_text("\n".join(lines) + "\n")
    log = unity.read_log(dst)
    others = sorted({1, 2, 3, 4, 5, 6} - {target})
    with pytest.raises(InputError) as exc:
        unity.unity_object(log, np.arange(3.0 * len(ends)).reshape(-1, 3) + 1)
    assert str(exc.value) == (
        f"{dst}: trial 1 (end marker {end_code} on line {end_no}) targets poster {target}, "
        f"absent from the header (its PosterLocations list posters "
        f"{', '.join(map(str, others))})"
    )
