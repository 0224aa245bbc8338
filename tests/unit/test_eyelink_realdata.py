"""The EyeLink readers on real edf2asc exports written by other people (shared/realdata).

The files are read in place from ``$HIPPOFLOW_REALDATA/eyelink`` (default ``../shared/realdata``;
never copied into it).  Every expected value is counted here from the file's text with
plain string handling, independently of the reader: sample lines are the lines that start
with a digit in column 0 (edf2asc writes samples from column 0; the calibration
coefficient lines continuing a ``!CAL`` message also hold numbers, but indented), message
lines start with ``MSG``, events with ``EFIX``/``ESACC``/``EBLINK`` and the eye letter,
blocks with ``START``/``END``.  Variants (fractional ``-ftime`` stamps, a block without
END, HREF/raw/remote layouts, BUTTON lines) are built in ``tmp_path`` by transforming a real
file's text.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pytest

from hippoflow import dpt
from hippoflow.behaviour import steps
from hippoflow.behaviour.eyelink.asc import read_asc
from hippoflow.behaviour.eyelink.objects import session_object
from hippoflow.behaviour.eyelink.recording import Recording
from hippoflow.behaviour.eyelink.sessions import split_navigation
from hippoflow.behaviour.eyelink.sniff import read_recording, sniff
from hippoflow.errors import InputError
from hippoflow.naming import EYELINK_TRIGGER
from tests.conftest import REALDATA as SHARED_REALDATA

REALDATA = SHARED_REALDATA
pytestmark = pytest.mark.realdata

EYE_DIR = REALDATA / "eyelink"
# file -> sample count measured on the file (shared/realdata/README.md)
README_SAMPLES = {
    "mono500.asc": 1834,
    "mono1000.asc": 3619,
    "bino1000.asc": 3467,
    "mono2000.asc": 8976,
    "test_eyelink.asc": 30236,
}
NAMES = sorted(README_SAMPLES)
READER_LOG = "hippoflow.behaviour.eyelink.asc"


# ---------------------------------------------------------------------------------------
# Independent counts from the text


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="latin-1").splitlines()


def text_facts(path: Path, eye: str) -> dict:
    """What the file says, counted line by line (no use of the reader)."""
    lines = lines_of(path)
    samples = [ln.split() for ln in lines if ln[:1].isdigit()]
    stamps = [float(s[0]) for s in samples]
    listed = set()
    for ln in lines:
        tok = ln.split()
        if tok and tok[0] == "SAMPLES":
            listed.add(tuple(t for t in tok if t in ("LEFT", "RIGHT")))
    assert len(listed) == 1, listed  # every block of these files records the same eyes
    (eyes,) = listed
    used = eye.upper() if eye.upper() in eyes else eyes[0]
    i = eyes.index(used)
    rate = {
        float(tok[tok.index("RATE") + 1])
        for tok in (ln.split() for ln in lines if ln.startswith("SAMPLES"))
    }

    def value(tok: str) -> float:
        return np.nan if tok == "." else float(tok)

    def events(key: str) -> list[tuple[float, float]]:
        pat = re.compile(rf"^{key}\s+{used[0]}\s+(\S+)\s+(\S+)")
        return [(float(m[1]), float(m[2])) for ln in lines if (m := pat.match(ln))]

    def count(prefix: str) -> int:
        return sum(1 for ln in lines if re.match(prefix, ln))

    starts = [float(ln.split()[1]) for ln in lines if ln.startswith("START")]
    ends = [float(ln.split()[1]) for ln in lines if ln.startswith("END")]
    repeats = sum(1 for a, b in zip(stamps, stamps[1:], strict=False) if a == b)
    return {
        "samples": len(samples),
        "stamps": np.array(stamps),
        "gx": np.array([value(s[1 + 3 * i]) for s in samples]),
        "gy": np.array([value(s[2 + 3 * i]) for s in samples]),
        "pupil": np.array([value(s[3 + 3 * i]) for s in samples]),
        "eye": {"L": "left", "R": "right"}[used[0]],
        "eyes": eyes,
        "rate": rate,
        "msg_times": [float(ln.split()[1]) for ln in lines if ln.startswith("MSG")],
        "msg_first_text": next(ln for ln in lines if ln.startswith("MSG")).split(None, 2)[2],
        "efix": events("EFIX"),
        "esacc": events("ESACC"),
        "eblink": events("EBLINK"),
        "efix_all": count(r"EFIX\s"),
        "input_lines": count(r"INPUT\s"),
        "blocks": list(zip(starts, ends, strict=True)),
        "n_start": len(starts),
        "n_end": len(ends),
        "repeats": repeats,
    }


def sub_ms(stamps: np.ndarray, rate: float) -> np.ndarray:
    """Expected times: the j-th repeat of a stamp gets + j * 1000/rate ms (independent loop)."""
    out, run = [], 0
    for k, t in enumerate(stamps):
        run = run + 1 if k and t == stamps[k - 1] else 0
        out.append(t + run * 1000.0 / rate)
    return np.array(out)


def same(a, b) -> None:
    np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


# ---------------------------------------------------------------------------------------
# Every real file, read whole


def test_realdata_files_are_all_covered():
    """The five files are there (CI has ../shared beside the clone) and all are tested."""
    assert EYE_DIR.is_dir(), f"{EYE_DIR} missing: clone the repository with ../shared beside it"
    assert sorted(p.name for p in EYE_DIR.glob("*.asc")) == NAMES


@pytest.mark.parametrize("eye", ["left", "right"])
@pytest.mark.parametrize("name", NAMES)
def test_real_file_read_whole_matches_its_text(name, eye, caplog):
    path = EYE_DIR / name
    ref = text_facts(path, eye)
    assert ref["samples"] == README_SAMPLES[name]
    assert sniff(path) == "eyelink-asc"
    with caplog.at_level(logging.INFO, logger=READER_LOG):
        rec = read_recording(path, eye=eye)
    assert rec.format == "eyelink-asc" and rec.path == str(path)
    assert rec.samples_time.dtype == np.float64
    # samples: count, first/last time, strictly increasing, gaze of the eye used
    assert rec.samples_time.size == rec.gx.size == rec.pupil.size == ref["samples"]
    (rate,) = ref["rate"]
    assert rec.sampling_rate == rate
    same(rec.samples_time, sub_ms(ref["stamps"], rate))
    assert rec.samples_time[0] == ref["stamps"][0]
    assert np.all(np.diff(rec.samples_time) > 0)
    same(rec.gx, ref["gx"])
    same(rec.gy, ref["gy"])
    same(rec.pupil, ref["pupil"])
    # messages, events of the eye used, blocks
    assert [t for t, _ in rec.messages] == ref["msg_times"]
    assert rec.messages[0][1] == ref["msg_first_text"].strip()
    assert [tuple(r) for r in rec.fixations[:, :2].tolist()] == ref["efix"]
    assert [tuple(r) for r in rec.saccades.tolist()] == ref["esacc"]
    assert [tuple(r) for r in rec.blinks.tolist()] == ref["eblink"]
    assert ref["n_start"] == ref["n_end"] == len(rec.blocks)
    assert rec.blocks == ref["blocks"]
    assert ref["input_lines"] > 0  # INPUT lines are in every file and skipped without error
    # the eye: asked for when recorded, else the one recorded, said in log and notes
    assert rec.eye == ref["eye"]
    fallback = [n for n in rec.notes if "was asked for" in n]
    if ref["eye"] == eye:
        assert fallback == []
    else:
        assert len(fallback) == 1 and str(path) in fallback[0]
        assert f"only the {ref['eye']} eye" in fallback[0]
        warned = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert [r.getMessage() for r in warned] == fallback


def test_mono2000_two_samples_per_millisecond(caplog):
    path = EYE_DIR / "mono2000.asc"
    stamps = [int(ln.split()[0]) for ln in lines_of(path) if ln[:1].isdigit()]
    repeated = sum(1 for a, b in zip(stamps, stamps[1:], strict=False) if a == b)
    assert len(stamps) == 8976 and repeated == 4488
    assert all(b >= a for a, b in zip(stamps, stamps[1:], strict=False))  # never backwards
    with caplog.at_level(logging.INFO, logger=READER_LOG):
        rec = read_asc(path, eye="right")
    t = rec.samples_time
    assert t.size == 8976 and rec.sampling_rate == 2000.0 and rec.eye == "right"
    assert np.all(np.diff(t) > 0)
    frac = t - np.floor(t)
    assert int(np.sum(frac == 0.5)) == 4488 and int(np.sum(frac == 0.0)) == 8976 - 4488
    assert rec.notes == []  # valid data: an info line, no warning
    assert any("4488 samples share their time stamp" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("name", ["bino1000.asc", "test_eyelink.asc"])
def test_binocular_eye_choice_gives_that_eyes_columns(name):
    path = EYE_DIR / name
    left, right = read_asc(path, eye="left"), read_asc(path, eye="right")
    assert (left.eye, right.eye) == ("left", "right")
    assert left.notes == right.notes == []
    rows = [ln.split() for ln in lines_of(path) if ln[:1].isdigit()]
    for rec, cols in ((left, (1, 2, 3)), (right, (4, 5, 6))):
        for key, c in zip(("gx", "gy", "pupil"), cols, strict=True):
            want = [np.nan if r[c] == "." else float(r[c]) for r in rows]
            same(getattr(rec, key), want)
    same(left.samples_time, right.samples_time)
    assert left.messages == right.messages and left.blocks == right.blocks
    ref_l, ref_r = text_facts(path, "left"), text_facts(path, "right")
    assert len(ref_l["efix"]) + len(ref_r["efix"]) == ref_l["efix_all"]
    assert [tuple(r) for r in left.fixations[:, :2].tolist()] == ref_l["efix"]
    assert [tuple(r) for r in right.fixations[:, :2].tolist()] == ref_r["efix"]
    assert not np.array_equal(left.gx, right.gx, equal_nan=True)
    if name == "bino1000.asc":  # README: 24 EFIX lines, 12 per eye
        assert len(ref_l["efix"]) == len(ref_r["efix"]) == 12 and ref_l["efix_all"] == 24


def test_unknown_eye_is_refused():
    with pytest.raises(ValueError, match="eye must be one of"):
        read_asc(EYE_DIR / "mono500.asc", eye="both")


# ---------------------------------------------------------------------------------------
# Variants built from the real files' text


def _ftime_text(path: Path) -> tuple[str, list[float], list[tuple[float, float]]]:
    """``edf2asc -ftime`` style: fractional stamps on samples, messages, events, blocks."""
    out, msg_t, fix = [], [], []
    prev, n_msg = None, 0
    for ln in lines_of(path):
        tok = ln.split("\t")
        if ln[:1].isdigit():
            t = int(tok[0])
            half = t == prev
            prev = t
            out.append("\t".join([f"{t}.{5 if half else 0}"] + tok[1:]))
        elif ln.startswith("MSG"):
            t, rest = ln.split("\t", 1)[1].split(" ", 1)
            ft = int(t) + 0.5 * (n_msg % 2)
            n_msg += 1
            msg_t.append(ft)
            out.append(f"MSG\t{ft:.1f} {rest}")
        elif ln.startswith(("EFIX", "ESACC", "EBLINK")):
            m = re.match(r"^(\S+\s+[LR]\s+)(\d+)\t(\d+)(.*)$", ln)
            a, b = int(m[2]), int(m[3])
            if ln.startswith("EFIX"):
                fix.append((float(a), b + 0.5))
            out.append(f"{m[1]}{a}.0\t{b}.5{m[4]}")
        elif ln.startswith(("START", "END")):
            out.append(re.sub(r"^(\S+\t)(\d+)", r"\g<1>\g<2>.0", ln))
        else:
            out.append(ln)
    return "\n".join(out) + "\n", msg_t, fix


def test_fractional_stamps_parse_and_keep_sub_millisecond_times(tmp_path, caplog):
    src = EYE_DIR / "mono2000.asc"
    text, msg_t, fix = _ftime_text(src)
    path = tmp_path / "mono2000_ftime.asc"
    path.write_text(text, encoding="latin-1")
    assert re.search(r"^\d+\.5\t", text, re.M) and re.search(r"^MSG\t\d+\.5 ", text, re.M)
    with caplog.at_level(logging.INFO, logger=READER_LOG):
        rec = read_recording(path, eye="right")
    whole = read_recording(src, eye="right")
    # the -ftime stamps are the sub-ms times the integer file is given
    assert rec.samples_time.size == 8976
    same(rec.samples_time, whole.samples_time)
    assert not any("share their time stamp" in r.getMessage() for r in caplog.records)
    assert [t for t, _ in rec.messages] == msg_t and len(msg_t) == 150
    assert [m for _, m in rec.messages] == [m for _, m in whole.messages]
    assert [tuple(r) for r in rec.fixations[:, :2].tolist()] == fix
    assert rec.blocks == whole.blocks and rec.eye == "right"
    same(rec.gx, whole.gx)


def _with_navigation_messages(path: Path, dst: Path) -> tuple[float, np.ndarray]:
    """A real file's -ftime text plus a session trigger and two trials at half-ms times."""
    text, _, _ = _ftime_text(path)
    lines = text.splitlines()
    sample_rows = [i for i, ln in enumerate(lines) if ln[:1].isdigit()]
    pick = [sample_rows[k] for k in (11, 401, 901, 1901, 2301, 3001, 3601)]
    times = [float(lines[i].split("\t")[0]) for i in pick]
    assert all(t % 1 == 0.5 for t in times)  # each picked sample is the second of its ms
    texts = [EYELINK_TRIGGER, "Start Trial 13", "Cue Offset 23", "End Trial 33"]
    texts += ["Start Trial 14", "Cue Offset 24", "End Trial 34"]
    for i, t, s in sorted(zip(pick, times, texts, strict=True), reverse=True):
        lines.insert(i + 1, f"MSG\t{t:.1f} {s}")
    dst.write_text("\n".join(lines) + "\n", encoding="latin-1")
    return times[0], np.array(times[1:]).reshape(2, 3)


def test_float_times_survive_edfsplit_and_the_eyelink_object(tmp_path):
    """Sub-ms sample and message times through steps.edfsplit (hickle) and steps.eyelink."""
    path = tmp_path / "181105.asc"
    trig_ms, trials_ms = _with_navigation_messages(EYE_DIR / "mono2000.asc", path)
    split_path = tmp_path / "edfsplit.hkl"
    obj = steps.edfsplit([path], tmp_path, "20181105", ["session01"], split_path, eye="right")
    assert obj["eye"] == "right" and obj["noOfSessions"] == 1
    same(obj["triggerTimes"] * 1000.0, [trig_ms])
    ripple_start = 2.0  # s on the Ripple clock at the trigger
    rpl = {
        "markers": np.array([[13.0, 23.0, 33.0], [14.0, 24.0, 34.0]]),
        "timeStamps": (trials_ms - trig_ms) / 1000.0 + ripple_start,
        "rawMarkers": np.array([84.0, 13.0]),
        "sessionStartTime": ripple_start,
    }
    rpl_path = tmp_path / "rplparallel.hkl"
    dpt.save_object(rpl_path, rpl, {}, dirs=[tmp_path])
    out = tmp_path / "eyelink.hkl"
    eye = steps.eyelink([split_path], rpl_path, "session01", out, tmp_path / "missingData.csv")
    back = dpt.load_object(out)
    whole = read_asc(path, eye="right")
    for o in (eye, back):
        np.testing.assert_allclose(
            (np.asarray(o["trial_timestamps"]) + o["expTime"]) * 1000.0, trials_ms, atol=1e-6
        )
        same(o["timestamps"], whole.samples_time / 1000.0)
        assert o["session_start"][0] * 1000.0 == pytest.approx(trig_ms, abs=1e-6)
        assert o["samplingRate"] == 2000.0 and str(o["eye"]) == "right"
    half = np.isclose(np.asarray(back["timestamps"]) * 1000.0 % 1.0, 0.5, atol=1e-4)
    assert int(half.sum()) == 4488
    assert len(back["missing"]) == 0


def _drop_end(lines: list[str], block: int) -> list[str]:
    ends = [i for i, ln in enumerate(lines) if ln.startswith("END")]
    return lines[: ends[block]] + lines[ends[block] + 1 :]


@pytest.mark.parametrize("name", NAMES)
def test_block_without_end_at_file_end_keeps_its_samples(tmp_path, name, caplog):
    """The tracker stopped mid-block: the file ends (cleanly) inside the last block."""
    lines = lines_of(EYE_DIR / name)
    starts = [i for i, ln in enumerate(lines) if ln.startswith("START")]
    rows = [i for i, ln in enumerate(lines) if ln[:1].isdigit() and i > starts[-1]]
    cut = rows[len(rows) // 2]
    path = tmp_path / name
    path.write_text("\n".join(lines[: cut + 1]) + "\n", encoding="latin-1")
    kept = sum(1 for ln in lines[: cut + 1] if ln[:1].isdigit())
    last = float(lines[cut].split()[0])
    eye = text_facts(EYE_DIR / name, "left")["eye"]  # the recorded eye: no fallback note
    with caplog.at_level(logging.WARNING, logger=READER_LOG):
        rec = read_asc(path, eye=eye)
    assert rec.samples_time.size == kept
    assert np.floor(rec.samples_time[-1]) == last
    start_t = float(lines[starts[-1]].split()[1])
    assert rec.blocks[-1] == (start_t, last) and len(rec.blocks) == len(starts)
    warned = [r.getMessage() for r in caplog.records if "has no END" in r.getMessage()]
    assert len(warned) == 1 and rec.notes == warned
    assert str(path) in warned[0] and f"line {starts[-1] + 1}:" in warned[0]


def test_block_without_end_before_the_next_start(tmp_path, caplog):
    src = EYE_DIR / "mono500.asc"
    lines = lines_of(src)
    starts = [i for i, ln in enumerate(lines) if ln.startswith("START")]
    path = tmp_path / "mono500_noend.asc"
    path.write_text("\n".join(_drop_end(lines, 1)) + "\n", encoding="latin-1")
    with caplog.at_level(logging.WARNING, logger=READER_LOG):
        rec = read_asc(path)
    whole = read_asc(src)
    assert rec.samples_time.size == whole.samples_time.size == 1834
    same(rec.samples_time, whole.samples_time)
    in_block2 = [float(ln.split()[0]) for ln in lines[starts[1] : starts[2]] if ln[:1].isdigit()]
    assert rec.blocks[1] == (whole.blocks[1][0], in_block2[-1])
    assert rec.blocks[::2] == whole.blocks[::2] and rec.blocks[3] == whole.blocks[3]
    (note,) = rec.notes
    assert str(path) in note and f"line {starts[1] + 1}:" in note and "no END" in note
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [note]


def test_file_cut_inside_a_line_is_still_truncated(tmp_path):
    lines = lines_of(EYE_DIR / "mono1000.asc")
    rows = [i for i, ln in enumerate(lines) if ln[:1].isdigit()]
    cut = rows[len(rows) // 2]
    path = tmp_path / "cut.asc"
    path.write_text("\n".join(lines[:cut]) + "\n" + lines[cut][:20], encoding="latin-1")
    with pytest.raises(InputError) as exc:
        read_asc(path, eye="right")
    assert str(path) in str(exc.value) and "truncated" in str(exc.value)


@pytest.mark.parametrize(
    ("kind", "words"),
    [("HREF", "head-referenced"), ("PUPIL", "raw pupil-camera")],
)
def test_href_and_raw_coordinates_are_a_clear_error(tmp_path, kind, words):
    text = (EYE_DIR / "bino1000.asc").read_text(encoding="latin-1")
    path = tmp_path / f"bino1000_{kind.lower()}.asc"
    path.write_text(text.replace("SAMPLES\tGAZE", f"SAMPLES\t{kind}"), encoding="latin-1")
    with pytest.raises(InputError) as exc:
        read_recording(path)
    msg = str(exc.value)
    assert str(path) in msg and kind in msg and words in msg and "GAZE" in msg


def test_remote_mode_reads_the_gaze_columns(tmp_path):
    """Remote (HTARGET) samples: head-target columns after the flags; gaze as usual."""
    src = EYE_DIR / "mono1000.asc"
    out = []
    for ln in lines_of(src):
        if ln.startswith("SAMPLES"):
            ln += "\tHTARGET"
        elif ln[:1].isdigit():
            ln += "\t 5208\t 5213\t  624.0\t............."
        out.append(ln)
    path = tmp_path / "remote.asc"
    path.write_text("\n".join(out) + "\n", encoding="latin-1")
    rec, whole = read_asc(path, eye="right"), read_asc(src, eye="right")
    same(rec.samples_time, whole.samples_time)
    for key in ("gx", "gy", "pupil"):
        same(getattr(rec, key), getattr(whole, key))
    assert any("remote mode" in n and str(path) in n for n in rec.notes)


def test_button_and_input_lines_are_skipped(tmp_path):
    src = EYE_DIR / "mono1000.asc"
    out = []
    for ln in lines_of(src):
        out.append(ln)
        if ln[:1].isdigit() and ln.split()[0].endswith("00"):
            out.append(f"BUTTON\t{ln.split()[0]}\t1\t1")
            out.append(f"INPUT\t{ln.split()[0]}\t255")
    path = tmp_path / "buttons.asc"
    path.write_text("\n".join(out) + "\n", encoding="latin-1")
    assert sum(1 for ln in out if ln.startswith("BUTTON")) > 10
    rec, whole = read_asc(path, eye="right"), read_asc(src, eye="right")
    same(rec.samples_time, whole.samples_time)
    same(rec.gx, whole.gx)
    assert rec.messages == whole.messages and rec.blocks == whole.blocks


# ---------------------------------------------------------------------------------------
# The workflow's splitting on a real file: no "Trigger Version 84", no trial messages


@pytest.mark.parametrize("name", NAMES)
def test_navigation_split_of_a_real_file(name):
    path = EYE_DIR / name
    assert not any(EYELINK_TRIGGER in ln for ln in lines_of(path))
    rec = read_recording(path)
    (one,) = split_navigation(rec, 1)  # no trigger: the whole file is the one session
    same(one.samples_time, rec.samples_time)
    assert one.messages == rec.messages
    with pytest.raises(InputError) as exc:
        split_navigation(rec, 2)
    msg = str(exc.value)
    assert str(path) in msg and f"0 '{EYELINK_TRIGGER}'" in msg and "2 navigation" in msg


def test_edfsplit_step_on_a_real_file_names_the_missing_message(tmp_path):
    path = EYE_DIR / "bino1000.asc"
    with pytest.raises(InputError) as exc:
        steps.edfsplit([path], tmp_path, "20181105", ["session01", "session02"], tmp_path / "o")
    assert str(path) in str(exc.value) and EYELINK_TRIGGER in str(exc.value)


@pytest.mark.parametrize("fixation", [False, True])
def test_eyelink_object_of_a_real_file_names_the_missing_trial_messages(fixation):
    path = EYE_DIR / "mono500.asc"
    rec = read_recording(path)
    k = 2 if fixation else 3
    markers = np.tile(np.arange(1, k + 1, dtype=float), (3, 1))
    times = np.arange(3 * k, dtype=float).reshape(3, k) + 1.0
    with pytest.raises(InputError) as exc:
        session_object(split_navigation(rec, 1)[0], markers, times, fixation=fixation)
    assert str(path) in str(exc.value) and "no EyeLink trial messages" in str(exc.value)


def test_recording_time_dtype_is_float():
    rec = Recording(
        path="x",
        samples_time=np.arange(3, dtype=np.int64),
        gx=np.zeros(3),
        gy=np.zeros(3),
        pupil=np.zeros(3),
        sampling_rate=1000.0,
        messages=[],
        fixations=np.zeros((0, 4)),
        saccades=np.zeros((0, 2), np.int64),
        blinks=np.zeros((0, 2), np.int64),
        blocks=[],
    )
    assert rec.samples_time.dtype == rec.saccades.dtype == rec.blinks.dtype == np.float64
    assert isinstance(rec.file_start_ms, float) and rec.notes == []


def test_decreasing_sample_time_is_still_an_error(tmp_path):
    lines = lines_of(EYE_DIR / "mono500.asc")
    rows = [i for i, ln in enumerate(lines) if ln[:1].isdigit()]
    i = rows[10]
    earlier = lines[rows[9]].split("\t")[0]
    lines[i] = "\t".join([str(int(earlier) - 1)] + lines[i].split("\t")[1:])
    path = tmp_path / "back.asc"
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    with pytest.raises(InputError) as exc:
        read_asc(path)
    assert str(path) in str(exc.value) and f"line {i + 1}:" in str(exc.value)
    assert "go backwards" in str(exc.value)


@pytest.fixture(scope="module")
def binocular_edf():
    """eyelinkio's bundled binocular .edf and eyelinkio's own reading of it (edfapi)."""
    import eyelinkio

    path = Path(eyelinkio.__file__).parent / "tests" / "data" / "test_raw_binocular.edf"
    return path, eyelinkio.read_edf(str(path))


@pytest.mark.parametrize("eye", ["left", "right"])
def test_edf_reader_eye_choice_on_a_binocular_edf(binocular_edf, eye):
    """The .edf reader takes the same ``eye``, checked against eyelinkio's reading."""
    path, ref = binocular_edf
    fields = ref["info"]["sample_fields"]
    rec = read_recording(path, eye=eye)
    assert rec.eye == eye and rec.notes == [] and rec.samples_time.dtype == np.float64
    same(rec.gx, ref["samples"][fields.index(f"xpos_{eye}")])
    same(rec.gy, ref["samples"][fields.index(f"ypos_{eye}")])
    fix = ref["discrete"]["fixations"]
    assert rec.fixations.shape[0] == int(np.sum(fix["eye"] == ("left", "right").index(eye)))
