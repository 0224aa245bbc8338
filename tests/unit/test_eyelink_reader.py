"""EyeLink readers checked against SR Research's own library on eyelinkio's real recordings.

The reference values come straight from edfapi's low-level calls made here in the test
(ctypes attribute access, independent of the reader's struct decoding), and from
eyelinkio's high-level ``read_edf`` for what it rebases.
"""

from __future__ import annotations

import ctypes as ct
import os
import random
from pathlib import Path

import eyelinkio
import numpy as np
import pytest

from hippoflow.behaviour.eyelink.sniff import read_recording, sniff
from hippoflow.errors import InputError

DATA = Path(eyelinkio.__file__).parent / "tests" / "data"
FILES = sorted(DATA.glob("*.edf"))


def lowlevel(path: Path) -> dict:
    """Everything the test compares, read with edfapi directly (attribute access)."""
    from eyelinkio.edf import _edf2py as lib
    from eyelinkio.edf._defines import event_constants as ec

    err = ct.c_int(0)
    h = lib.edf_open_file(str(path).encode(), 2, 1, 1, ct.byref(err))
    assert h and err.value == 0
    out = {
        "times": [],
        "gx": [],
        "gy": [],
        "messages": [],
        "blocks": [],
        "rates": set(),
        "eye": None,
    }
    out["events"] = []  # (kind, eye, sttime, entime, gavx, gavy)
    start = None
    try:
        while True:
            t = lib.edf_get_next_data(h)
            name = ec.get(t)
            if name == "NO_PENDING_ITEMS":
                break
            d = lib.edf_get_float_data(h).contents
            if name == "SAMPLE_TYPE":
                eye = 1 if out["eye"] == 2 else 0
                out["times"].append(d.fs.time)
                out["gx"].append(d.fs.gx[eye])
                out["gy"].append(d.fs.gy[eye])
            elif name == "MESSAGEEVENT":
                e = d.fe
                raw = ct.string_at(ct.byref(e.message[0]), e.message.contents.len + 1)[2:]
                out["messages"].append((e.sttime, raw.rstrip(b"\x00").decode("utf-8").strip()))
            elif name == "RECORDING_INFO":
                if d.rec.state:
                    start = d.rec.time
                    out["rates"].add(d.rec.sample_rate)
                    out["eye"] = d.rec.eye
                else:
                    out["blocks"].append((start, d.rec.time))
            elif name in ("ENDFIX", "ENDSACC", "ENDBLINK"):
                e = d.fe
                out["events"].append((name, e.eye, e.sttime, e.entime, e.gavx, e.gavy))
    finally:
        lib.edf_close_file(h)
    return out


@pytest.fixture(scope="module", params=FILES, ids=lambda p: p.name)
def pair(request):
    path = request.param
    return path, read_recording(path), lowlevel(path)


def test_bundled_recordings_exist():
    assert len(FILES) >= 3  # eyelinkio 0.3.0 ships three real recordings


def test_samples_messages_blocks_agree_with_edfapi(pair):
    path, rec, ref = pair
    assert rec.format == "eyelink-edf" and sniff(path) == "eyelink-edf"
    assert len(rec.samples_time) == len(ref["times"])
    np.testing.assert_array_equal(rec.samples_time, np.asarray(ref["times"], dtype=np.int64))
    gx = np.asarray(ref["gx"], dtype=np.float64)
    gx[gx >= 1e8 - 1] = np.nan
    np.testing.assert_array_equal(rec.gx, gx)
    assert rec.messages == ref["messages"]
    assert rec.blocks == ref["blocks"]
    assert {rec.sampling_rate} == ref["rates"]
    eye = 1 if ref["eye"] == 2 else 0
    mine = [ev for ev in ref["events"] if ev[1] == eye]
    fix = [(a, b) for k, _, a, b, *_ in mine if k == "ENDFIX"]
    sac = [(a, b) for k, _, a, b, *_ in mine if k == "ENDSACC"]
    blk = [(a, b) for k, _, a, b, *_ in mine if k == "ENDBLINK"]
    assert [tuple(map(int, r[:2])) for r in rec.fixations] == fix
    assert [tuple(r) for r in rec.saccades.tolist()] == sac
    assert [tuple(r) for r in rec.blinks.tolist()] == blk


def test_absolute_times_are_not_rebased(pair):
    path, rec, ref = pair
    high = eyelinkio.read_edf(str(path))
    # read_edf rebuilds time from zero at the sampling rate and squeezes gaps out
    assert high["times"][0] == 0
    assert len(high["times"]) == len(rec.samples_time)
    assert rec.samples_time[0] == ref["times"][0] > 100_000  # tracker clock, ms since boot
    assert rec.samples_time[-1] == ref["times"][-1]
    assert rec.blocks[0][0] <= rec.samples_time[0] and rec.samples_time[-1] < rec.blocks[-1][1]
    # span in ms: absolute span covers recording gaps, read_edf's does not
    span_abs = rec.samples_time[-1] - rec.samples_time[0]
    span_rebased = high["times"][-1] * 1000.0
    gaps = sum(b2[0] - b1[1] for b1, b2 in zip(rec.blocks, rec.blocks[1:], strict=False))
    assert span_abs == pytest.approx(span_rebased + gaps, abs=len(rec.blocks) * 2 + 1)
    if len(rec.blocks) > 1:
        assert span_abs > span_rebased + 1000
    # messages keep tracker time; read_edf's are rebased
    first = rec.messages[0][0]
    assert first == ref["messages"][0][0]
    assert high["discrete"]["messages"]["stime"].min() < 1e5 < first


def test_isolated_and_in_process_reads_agree():
    path = DATA / "test_raw.edf"
    a = read_recording(path, isolate=True)
    b = read_recording(path, isolate=False)
    np.testing.assert_array_equal(a.samples_time, b.samples_time)
    np.testing.assert_array_equal(a.gy, b.gy)
    assert a.messages == b.messages and a.blocks == b.blocks


# ---------------------------------------------------------------------------------------
# .asc and .edf of the same recording


def _f(v: float) -> str:
    return "   ." if v >= 1e8 - 1 or v <= -32767 else f"{v:.1f}"


def write_asc_from_edfapi(src: Path, dst: Path) -> None:
    """An edf2asc-style export of the file, written from edfapi's low-level stream."""
    from eyelinkio.edf import _edf2py as lib
    from eyelinkio.edf._defines import event_constants as ec

    err = ct.c_int(0)
    h = lib.edf_open_file(str(src).encode(), 2, 1, 1, ct.byref(err))
    tlen = lib.edf_get_preamble_text_length(h)
    buf = ct.create_string_buffer(tlen + 1)
    lib.edf_get_preamble_text(h, buf, tlen + 1)
    lines = [ln if ln.startswith("**") else f"** {ln}" for ln in buf.value.decode().splitlines()]
    lines.append("")
    eyes = ["LEFT"]
    try:
        while True:
            t = lib.edf_get_next_data(h)
            name = ec.get(t)
            if name == "NO_PENDING_ITEMS":
                break
            d = lib.edf_get_float_data(h).contents
            if name == "SAMPLE_TYPE":
                s = d.fs
                cols = [str(s.time)]
                for i in range(len(eyes)):
                    cols += [_f(s.gx[i]), _f(s.gy[i]), _f(s.pa[i])]
                lines.append("\t".join(cols) + "\t...")
            elif name == "MESSAGEEVENT":
                e = d.fe
                raw = ct.string_at(ct.byref(e.message[0]), e.message.contents.len + 1)[2:]
                text = raw.rstrip(b"\x00").decode()
                lines.append(f"MSG\t{e.sttime} {text}")
            elif name == "RECORDING_INFO":
                r = d.rec
                if r.state:
                    eyes = {1: ["LEFT"], 2: ["RIGHT"], 3: ["LEFT", "RIGHT"]}[r.eye]
                    e_txt = "\t".join(eyes)
                    lines += [
                        f"START\t{r.time} \t{e_txt}\tSAMPLES\tEVENTS",
                        "PRESCALER\t1",
                        f"EVENTS\tGAZE\t{e_txt}\tRATE\t{r.sample_rate:.2f}\tTRACKING\tCR",
                        f"SAMPLES\tGAZE\t{e_txt}\tRATE\t{r.sample_rate:.2f}\tTRACKING\tCR",
                    ]
                else:
                    lines.append(f"END\t{r.time} \tSAMPLES\tEVENTS\tRES\t 38.0\t 31.0")
            elif name in ("STARTFIX", "STARTSACC", "STARTBLINK"):
                e = d.fe
                key = {"STARTFIX": "SFIX", "STARTSACC": "SSACC", "STARTBLINK": "SBLINK"}[name]
                lines.append(f"{key} {'LR'[e.eye]}   {e.sttime}")
            elif name in ("ENDFIX", "ENDSACC", "ENDBLINK"):
                e = d.fe
                eye = "LR"[e.eye]
                dur = e.entime - e.sttime + 1
                if name == "ENDFIX":
                    lines.append(
                        f"EFIX {eye}   {e.sttime}\t{e.entime}\t{dur}\t{_f(e.gavx)}\t"
                        f"{_f(e.gavy)}\t{e.ava:.0f}"
                    )
                elif name == "ENDSACC":
                    lines.append(
                        f"ESACC {eye}  {e.sttime}\t{e.entime}\t{dur}\t{_f(e.gstx)}\t"
                        f"{_f(e.gsty)}\t{_f(e.genx)}\t{_f(e.geny)}\t1.00\t100"
                    )
                else:
                    lines.append(f"EBLINK {eye} {e.sttime}\t{e.entime}\t{dur}")
            elif name == "INPUTEVENT":
                lines.append(f"INPUT\t{d.io.time}\t{d.io.data}")
    finally:
        lib.edf_close_file(h)
    dst.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("name", [p.name for p in FILES])
def test_asc_and_edf_give_the_same_recording(tmp_path, name):
    src = DATA / name
    asc = tmp_path / name.replace(".edf", "_export.edf")  # .asc content under an .edf name
    write_asc_from_edfapi(src, asc)
    assert sniff(asc) == "eyelink-asc"
    a, b = read_recording(asc), read_recording(src)
    assert a.format == "eyelink-asc" and b.format == "eyelink-edf"
    np.testing.assert_array_equal(a.samples_time, b.samples_time)
    for key in ("gx", "gy", "pupil"):
        x, y = getattr(a, key), getattr(b, key)
        np.testing.assert_array_equal(np.isnan(x), np.isnan(y))
        np.testing.assert_allclose(x[~np.isnan(x)], y[~np.isnan(y)], atol=0.051)
    assert a.messages == b.messages
    assert a.blocks == b.blocks
    assert a.sampling_rate == b.sampling_rate and a.eye == b.eye
    np.testing.assert_array_equal(a.saccades, b.saccades)
    np.testing.assert_array_equal(a.blinks, b.blinks)
    np.testing.assert_array_equal(a.fixations[:, :2], b.fixations[:, :2])
    np.testing.assert_allclose(a.fixations[:, 2:], b.fixations[:, 2:], atol=0.051)
    assert b.header[:3] == a.header[:3]


# ---------------------------------------------------------------------------------------
# Files that are not EyeLink recordings, and broken ones


def test_european_data_format_is_rejected(tmp_path):
    import pyedflib

    path = tmp_path / "181105.edf"
    w = pyedflib.EdfWriter(str(path), 2, file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        w.setSignalHeaders(
            [
                {
                    "label": lab,
                    "dimension": "px",
                    "sample_frequency": 100,
                    "physical_max": 2000.0,
                    "physical_min": -100.0,
                    "digital_max": 32767,
                    "digital_min": -32768,
                }
                for lab in ("gaze_x", "gaze_y")
            ]
        )
        w.writeSamples([np.linspace(0, 1900, 300), np.linspace(0, 1000, 300)])
        w.writeAnnotation(0.5, -1, "Trigger Version 84")
    finally:
        w.close()
    assert path.read_bytes().startswith(b"0       ")
    assert sniff(path) == "european-edf"
    with pytest.raises(InputError) as exc:
        read_recording(path)
    msg = str(exc.value)
    assert str(path) in msg and "European Data Format" in msg and "not an EyeLink" in msg


def test_random_binary_named_edf_is_rejected(tmp_path):
    path = tmp_path / "181105.edf"
    path.write_bytes(bytes(random.Random(3).randrange(256) for _ in range(4096)))
    with pytest.raises(InputError) as exc:
        read_recording(path)
    assert str(path) in str(exc.value) and "not an EyeLink recording" in str(exc.value)
    assert "first bytes" in str(exc.value)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "e.edf").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_recording(tmp_path / "e.edf")
    with pytest.raises(InputError, match="cannot be read"):
        read_recording(tmp_path / "absent.edf")


@pytest.mark.parametrize("cut", [200, 300_000])
def test_truncated_edf_is_a_clear_error(tmp_path, cut):
    path = tmp_path / "181105.edf"
    path.write_bytes((DATA / "test_raw.edf").read_bytes()[:cut])
    with pytest.raises(InputError) as exc:
        read_recording(path)
    assert str(path) in str(exc.value) and "truncated" in str(exc.value)


def test_corrupt_edf_that_crashes_the_library_is_a_clear_error(tmp_path):
    """edfapi dies with SIGSEGV on this file; the isolated reader turns that into InputError."""
    data = bytearray((DATA / "test_raw.edf").read_bytes())
    rnd = random.Random(1)
    for i in range(700_000, 703_000):
        data[i] = rnd.randrange(256)
    path = tmp_path / "181105.edf"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as exc:
        read_recording(path)
    assert str(path) in str(exc.value)
    assert "corrupt" in str(exc.value)


def test_truncated_asc_is_a_clear_error(tmp_path):
    full = tmp_path / "full.asc"
    write_asc_from_edfapi(DATA / "test_raw.edf", full)
    text = full.read_bytes()
    for frac in (0.5, 0.9):
        path = tmp_path / f"cut{frac}.asc"
        path.write_bytes(text[: int(len(text) * frac)])
        with pytest.raises(InputError) as exc:
            read_recording(path)
        assert str(path) in str(exc.value) and "truncated" in str(exc.value)
    assert os.path.getsize(full) == len(text)


def test_windows_line_endings(tmp_path):
    """edf2asc on Windows writes CRLF; the parser gives the same recording."""
    unix = tmp_path / "unix.asc"
    write_asc_from_edfapi(DATA / "test_raw.edf", unix)
    dos = tmp_path / "dos.asc"
    dos.write_bytes(unix.read_bytes().replace(b"\n", b"\r\n"))
    a, b = read_recording(unix), read_recording(dos)
    np.testing.assert_array_equal(a.samples_time, b.samples_time)
    np.testing.assert_array_equal(a.gx, b.gx)
    assert a.messages == b.messages and a.blocks == b.blocks
