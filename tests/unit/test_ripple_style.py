"""Files shaped like the ones Ripple's Trellis writes for the lab, against the lab's documented
numbering and neo's reading.

Expectations stated by hand from the pipeline contract (section 4): PyHipp wrote
``array{connector + 1}`` and the lab's trees have channels 1-32 in ``array01``, 33-64 in
``array02``...; the lab's Ripple files store the connector 0-based, Blackrock's own 1-based.
A ``.ns5`` may hold analog inputs (Trellis: ``ainp1``... ids 10241 and up, mV), which are not
channels.  A Trellis ``.nev`` carries NEUEVWAV/NEUEVLBL/NEUEVFLT/DIGLABEL extended headers and
comment (and spike) packets; only the digital input port's packets are markers.  A Neuralynx
event file (also named ``.nev``) is refused by its content.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import struct
import warnings
from pathlib import Path

import neo.rawio
import numpy as np
import pytest

from hippoflow import naming, plan
from hippoflow.errors import InputError
from hippoflow.ripple import nev, nsx, steps
from hippoflow.synth import day as gen

SESSIONS = ("session01", "session02", "sessioneye")


def ns5(path: Path, channels) -> Path:
    """An .ns5 of 30 samples; channels = (electrode id, connector[, label[, units]])."""
    path.parent.mkdir(parents=True, exist_ok=True)
    specs = []
    for k, (e, conn, *rest) in enumerate(channels):
        label = rest[0] if rest else ""
        units = rest[1] if len(rest) > 1 else "uV"
        specs.append(nsx.ChannelSpec(e, conn, k + 1, label=label, units=units))
    nsx.write_nsx(path, specs, [(0, np.zeros((30, len(specs)), dtype=np.int16))])
    return path


def neo_reader(base: Path, nsx_to_load=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = neo.rawio.BlackrockRawIO(filename=str(base), nsx_to_load=nsx_to_load)
        r.parse_header()
    return r


def neo_nev(path: Path, tmp_path: Path):
    """neo reading a .nev on its own (a symlink in a directory of its own)."""
    link = tmp_path / "alone" / "file.nev"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(path.resolve())
    return neo_reader(link.with_suffix(""), nsx_to_load=None)


def neo_events(r, name: str):
    names = [str(n) for n in r.header["event_channels"]["name"]]
    ts, _, labels = r.get_event_timestamps(0, 0, names.index(name))
    return np.asarray(ts, dtype=np.int64), labels


@pytest.fixture(scope="module")
def blackrock_day(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("blackrock") / "data"
    gen.main(
        [
            "--out",
            str(root),
            "--channels",
            "6",
            "--sessions",
            "2",
            "--header-only",
            "--blackrock-style",
        ]
    )
    return root / "picasso" / "20181105"


@pytest.fixture(scope="module")
def ripple_day(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ripple") / "data"
    gen.main(["--out", str(root), "--channels", "6", "--sessions", "2", "--header-only"])
    return root / "picasso" / "20181105"


# ------------------------------------------------------------------------------ arrays
def test_0_based_file_channel_33_on_connector_1_is_array02(tmp_path):
    path = ns5(tmp_path / "r.ns5", [(1, 0), (32, 0), (33, 1), (64, 1), (97, 3)])
    assert plan.header_channels(path) == [
        ("01", "001"),
        ("01", "032"),
        ("02", "033"),
        ("02", "064"),
        ("04", "097"),
    ]


def test_1_based_file_channel_33_on_connector_2_is_array02(tmp_path):
    path = ns5(tmp_path / "b.ns5", [(1, 1), (33, 2), (97, 4)])
    assert plan.header_channels(path) == [("01", "001"), ("02", "033"), ("04", "097")]
    # a Blackrock file with only bank B recorded: still 1-based
    only_b = ns5(tmp_path / "bb.ns5", [(33, 2), (34, 2)])
    assert plan.header_channels(only_b) == [("02", "033"), ("02", "034")]


def test_an_analog_inputs_connector_does_not_decide(tmp_path):
    # 1-based electrodes; the analog input sits on connector 0: the file stays 1-based
    path = ns5(tmp_path / "b.ns5", [(1, 1), (33, 2), (129, 0, "ainp1", "mV")])
    assert plan.header_channels(path) == [("01", "001"), ("02", "033")]


def test_ripple_file_without_connector_0_is_1_based_and_warned(tmp_path, caplog):
    path = ns5(tmp_path / "r.ns5", [(33, 1), (34, 1), (10241, 0, "ainp1", "mV")])
    with caplog.at_level(logging.WARNING, logger="hippoflow.plan"):
        assert plan.header_channels(path) == [("01", "033"), ("01", "034")]
    assert "no electrode on connector 0" in caplog.text and str(path) in caplog.text


@pytest.mark.parametrize("style, first", [("ripple", 0), ("blackrock", 1)])
def test_rule_on_neos_connector_reading_of_generated_files(style, first, ripple_day, blackrock_day):
    day = ripple_day if style == "ripple" else blackrock_day
    for session in SESSIONS:
        (path,) = sorted((day / session).glob("*.ns5"))
        r = neo_reader(path.with_suffix(""), nsx_to_load=5)
        ext = r._nsx_ext_header[5]
        units = [u.decode() for u in ext["units"]]
        ids = [int(e) for e in ext["electrode_id"]]
        connectors = [int(c) for c in ext["physical_connector"]]
        electrodes = [(e, c) for e, c, u in zip(ids, connectors, units, strict=True) if u == "uV"]
        # the lab's numbering: electrodes 1, 2, 33, 34, 65, 97 on banks of 32
        assert [e for e, _ in electrodes] == [1, 2, 33, 34, 65, 97]
        assert [c for _, c in electrodes] == [(e - 1) // 32 + first for e, _ in electrodes]
        # the rule: a file with connector 0 on an electrode is 0-based (array = connector + 1)
        zero_based = any(c == 0 for _, c in electrodes)
        assert zero_based == (style == "ripple")
        expected = [(f"{c + zero_based:02d}", f"{e:03d}") for e, c in electrodes]
        assert plan.header_channels(path) == expected
        # both styles give PyHipp's directories: 1-32 -> array01, 33-64 -> array02, ...
        assert [a for a, _ in expected] == ["01", "01", "02", "02", "03", "04"]
        extra = [(e, u) for e, u in zip(ids, units, strict=True) if u != "uV"]
        assert extra == ([(10241, "mV"), (10242, "mV")] if style == "ripple" else [])


# --------------------------------------------------------------------- non-electrodes
def test_non_electrode_channels_are_not_planned_and_are_logged(ripple_day, caplog):
    with caplog.at_level(logging.INFO, logger="hippoflow.plan"):
        p = plan.make_plan({"data_root": str(ripple_day.parent.parent)})
    for session in SESSIONS:
        chans = p.channels(("picasso", "20181105", session))
        assert [c for _, c in chans] == ["001", "002", "033", "034", "065", "097"]
    targets = p.ripple_targets("L.hkl", "H.hkl") + p.sorting_targets()
    assert targets and not any("1024" in t for t in targets)
    assert p.problems == {}
    lines = [r.getMessage() for r in caplog.records if "not split" in r.getMessage()]
    assert len(lines) == len(SESSIONS)
    assert "ainp1 (id 10241, mV" in lines[0] and "ainp2 (id 10242, mV" in lines[0]


def test_each_kind_of_non_electrode_is_skipped_with_its_reason(tmp_path, caplog):
    path = ns5(
        tmp_path / "x.ns5",
        [
            (1, 0, "raw 1"),
            (2, 0, "raw 2", "mV"),  # an electrode in mV is an electrode
            (129, 4, "ainp1", "mV"),  # Blackrock's analog input: by its label
            (10243, 0, "sma 3", "mV"),  # Ripple's analog-input ids: by its id
            (3, 0, "temp", "degC"),  # not a voltage: by its units
        ],
    )
    with caplog.at_level(logging.INFO, logger="hippoflow.plan"):
        assert plan.header_channels(path) == [("01", "001"), ("01", "002")]
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith(f"{path}: 3 channel(s) not electrodes, not split")
    assert "ainp1 (id 129, mV: labelled as an analog input)" in line
    assert "sma 3 (id 10243, mV: id in the analog-input range (10241 and above))" in line
    assert "temp (id 3, degC: units 'degC' are not a voltage)" in line


def test_rplsplit_log_lists_the_analog_inputs(small_day, tmp_path, caplog):
    session = small_day / "picasso" / "20181105" / "session01"
    (path,) = session.glob("*.ns5")
    out = tmp_path / "ch001" / "rplraw_d41d.hkl"
    out.parent.mkdir()
    with caplog.at_level(logging.INFO, logger="hippoflow.ripple.steps"):
        steps.rplsplit([path], None, [1], [out], progress=False)
    assert "not electrodes, not split: ainp1 (id 10241, mV" in caplog.text


def test_channel_id_1000_is_planned_as_channel1000(tmp_path):
    root = tmp_path / "data"
    ns5(root / "picasso" / "20181105" / "session01" / "a.ns5", [(999, 0), (1000, 0), (1001, 1)])
    p = plan.make_plan({"data_root": str(root)})
    key = ("picasso", "20181105", "session01")
    assert p.channels(key) == [("01", "999"), ("01", "1000"), ("02", "1001")]
    assert "picasso/20181105/session01/array01/channel1000/L.hkl" in p.ripple_targets(
        "L.hkl", "H.hkl"
    )
    selected = plan.make_plan({"data_root": str(root), "channels": [1000]})
    assert selected.channels(key) == [("01", "1000")] and selected.problems == {}
    # the wildcard accepts what the planner writes: at least three digits
    rx = re.compile(naming.CHANNEL_RE)
    assert all(rx.fullmatch(c) for c in ("001", "033", "999", "1000", "10240"))
    assert not rx.fullmatch("01") and not rx.fullmatch("1")
    # and Snakemake's wildcard parser reads it as a constraint (it refuses "{3,}")
    from snakemake.io import WILDCARD_REGEX

    m = WILDCARD_REGEX.fullmatch("{channel," + naming.CHANNEL_RE + "}")
    assert m and m.group("constraint") == naming.CHANNEL_RE


# ------------------------------------------------------------------------------ .nev
def test_generated_nev_read_by_neo_gives_the_generated_markers(small_day, tmp_path):
    day = small_day / "picasso" / "20181105"
    truth = json.loads((day / "groundtruth_trials.json").read_text())
    for session in SESSIONS:
        (path,) = (day / session).glob("*.nev")
        t = truth[session]
        # the markers as the lab's port writes them: each code, then 0 one ms later
        codes = ([84] if t["session_start"] is not None else []) + [
            c for row in t["codes"] for c in row
        ]
        times = ([t["session_start"]] if t["session_start"] is not None else []) + [
            x for row in t["times"] for x in row
        ]
        ticks = [tk for x in times for tk in (round(x * 30000), round(x * 30000) + 30)]
        values = [v for c in codes for v in (c, 0)]
        for r in (neo_reader(path.with_suffix("")), neo_nev(path, tmp_path / session)):
            got_ticks, labels = neo_events(r, "digital_input_port")
            assert got_ticks.tolist() == ticks
            assert np.asarray(labels).astype(int).tolist() == values
        ours_codes, ours_times = nev.read_nev_events(path)
        assert ours_codes.tolist() == values
        np.testing.assert_array_equal(ours_times, np.array(ticks) / 30000)


def test_neo_reports_the_trellis_extended_headers_and_comments(small_day, tmp_path):
    session = small_day / "picasso" / "20181105" / "session01"
    (path,) = session.glob("*.nev")
    r = neo_reader(path.with_suffix(""))
    ext = r._nev_ext_header
    ids = [1, 33, 65, 97]  # the small day's 4 channels, one per bank
    assert [(lab.decode(), int(m)) for lab, m in ext[b"DIGLABEL"][["label", "mode"]]] == [
        ("parallel", 1)
    ]
    wav = ext[b"NEUEVWAV"]
    assert wav["electrode_id"].tolist() == ids
    assert wav["physical_connector"].tolist() == [0, 1, 2, 3]  # 0-based, as in the .ns5
    assert ext[b"NEUEVLBL"]["electrode_id"].tolist() == ids
    assert [lab.decode() for lab in ext[b"NEUEVLBL"]["label"]] == [f"spk {e}" for e in ids]
    flt = ext[b"NEUEVFLT"]
    assert flt["electrode_id"].tolist() == ids
    assert set(flt["hi_freq_corner"].tolist()) == {250_000}  # mHz: 250 Hz
    assert set(flt["lo_freq_corner"].tolist()) == {7_500_000}
    # our header reading agrees with neo's
    h = nev.read_nev_header(path)
    assert h.extended_kinds == {"NEUEVWAV": 4, "NEUEVLBL": 4, "NEUEVFLT": 4, "DIGLABEL": 1}
    assert h.digital_labels() == [("parallel", 1)]
    assert h.electrode_connectors() == dict(zip(ids, [0, 1, 2, 3], strict=True))
    assert h.electrode_labels() == {e: f"spk {e}" for e in ids}
    # the comments are events of their own for neo, not markers
    ticks, texts = neo_events(neo_nev(path, tmp_path), "comments")
    assert ticks.tolist() == [0, 20 * 30000 - 1]
    assert list(texts) == [
        "hippoflow synthetic recording start",
        "hippoflow synthetic recording end",
    ]
    assert nev.packet_counts(path)["comments"] == 2


def _packet(ts, packet_id, reason_or_unit, value, size):
    return struct.pack("<IHBBH", ts, packet_id, reason_or_unit, 0, value).ljust(size, b"\x07")


def test_spike_serial_and_comment_packets_are_not_markers(tmp_path):
    """A Trellis-like file written here packet by packet: digital markers among spike events,
    serial-port events and comments, all in time order."""
    size = 104
    path = tmp_path / "t.nev"
    electrodes = [nev.NevElectrode(1, 0, 1), nev.NevElectrode(33, 1, 1)]
    nev.write_nev(path, [], [], electrodes=electrodes, digital_label=("parallel", 1))
    packets = [
        (100, 1, 0, 0),  # spike on electrode 1, unit 0
        (200, 0xFFFF, 0, 0),  # comment
        (15000, 0, 1, 84),  # digital input port
        (15010, 33, 0, 0),  # spike on electrode 33
        (15030, 0, 1, 0),
        (16000, 0, 129, 99),  # serial port: not the digital input port
        (45000, 0, 1, 11),
        (45002, 1, 0, 0),
        (45030, 0, 1, 0),
    ]
    body = b"".join(_packet(ts, pid, why, val, size) for ts, pid, why, val in packets)
    path.write_bytes(path.read_bytes() + body)
    codes, times = nev.read_nev_events(path)
    assert codes.tolist() == [84, 0, 11, 0]
    np.testing.assert_array_equal(times, np.array([15000, 15030, 45000, 45030]) / 30000)
    ticks, labels = neo_events(neo_nev(path, tmp_path), "digital_input_port")
    assert ticks.tolist() == [15000, 15030, 45000, 45030]
    assert np.asarray(labels).astype(int).tolist() == [84, 0, 11, 0]
    assert nev.packet_counts(path) == {"digital": 4, "comments": 1, "spikes": 3, "other": 1}


# ---------------------------------------------------------------- another vendor's .nev
def neuralynx_events(path: Path) -> Path:
    """A Neuralynx event file as Cheetah writes it: a 16 kB text header (NUL-padded), then
    184-byte event records."""
    text = (
        b"######## Neuralynx Data File Header\r\n"
        b"## File Name C:\\CheetahData\\Events.nev\r\n"
        b"## Time Opened (m/d/y): 11/5/2018  (h:m:s.ms) 10:00:00.000\r\n"
        b"-FileType Event\r\n"
        b"-RecordSize 184\r\n"
    )
    header = text.ljust(16384, b"\x00")
    # nstx, packet id, data size, time stamp (us), event id, TTL value, crc, 2 spare, 8 extras
    record = struct.pack("<hhhQhhhhh8i", 0, 0, 2, 10**9, 11, 84, 0, 0, 0, *[0] * 8)
    record += b"TTL Input on AcqSystem1_0 board 0 port 0 value (0x0054).".ljust(128, b"\x00")
    assert len(record) == 184
    path.write_bytes(header + record * 3)
    return path


def test_a_neuralynx_file_named_nev_is_refused_naming_what_it_is(small_day, tmp_path):
    session = tmp_path / "session01"
    shutil.copytree(small_day / "picasso" / "20181105" / "session01", session)
    (trellis,) = session.glob("*.nev")
    path = neuralynx_events(trellis)  # the lab's .nev replaced by a Neuralynx one
    (ns5_path,) = session.glob("*.ns5")
    calls = [
        lambda: nev.read_nev_header(path),
        lambda: nev.read_nev_events(path),
        lambda: nev.check_pair(path, ns5_path),
        lambda: steps.rplparallel(path, ns5_path, tmp_path / "o.hkl", {}),
    ]
    for call in calls:
        with pytest.raises(InputError) as err:
            call()
        msg = str(err.value)
        assert msg.startswith(f"{path}: not a Blackrock/Ripple NEV file")
        assert "Neuralynx" in msg and "'######## Neuralynx Data File Header'" in msg
    assert not (tmp_path / "o.hkl").exists()


@pytest.mark.parametrize(
    "content, looks",
    [
        (b"", "an empty file"),
        (b"NEURALCD\x02\x03" + b"\x00" * 400, "NSx continuous file"),
        (b"trial,code,time\n1,84,0.5\n", "a text file (it starts with 'trial,code,time"),
    ],
)
def test_other_non_nev_files_say_what_they_look_like(tmp_path, content, looks):
    path = tmp_path / "x.nev"
    path.write_bytes(content)
    with pytest.raises(InputError, match="not a Blackrock/Ripple NEV file") as err:
        nev.read_nev_header(path)
    assert looks in str(err.value) and str(err.value).startswith(str(path))
