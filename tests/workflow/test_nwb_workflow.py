"""NWB files of a processed day (rule nwb), read back with pynwb and checked against the
workflow's own files read independently (h5py on the hickle files, the csv module on the
spike trains and the raycast table), then given to nwbinspector.

The day is the shared small day's whole-workflow run (tests/conftest.py ``small_day_run``:
4 channels, session01, session02 and sessioneye of 20 s): no run of its own.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path

import h5py
import hickle
import numpy as np
import pytest
from conftest import job_counts, run_snakemake
from pynwb import NWBHDF5IO

from hippoflow.config import defaults
from hippoflow.errors import InputError

DAY = ("picasso", "20181105")
SESSIONS = ("session01", "session02", "sessioneye")
CHANNELS = [("01", "001"), ("02", "033"), ("03", "065"), ("04", "097")]
# the generator writes this time origin into every .ns5 (hippoflow/synth/day.py)
START = dt.datetime(2018, 11, 5, 10, 0, 0, tzinfo=dt.UTC)


def nwb_path(outroot: Path, session: str) -> Path:
    return outroot.joinpath(*DAY, session, f"{DAY[0]}_{DAY[1]}_{session}.nwb")


def hkl(path: Path, key: str) -> np.ndarray:
    """One array of a hickle file read with h5py (hickle 5 stores dict key k as "k")."""
    with h5py.File(path, "r") as f:
        return f["data"][f'"{key}"'][()]


@pytest.fixture(scope="module")
def day(small_day_run):
    _, outroot, _, _ = small_day_run
    return outroot


@pytest.fixture(scope="module")
def files(day):
    """{session: (io, nwbfile)} open for the module."""
    out = {}
    for s in SESSIONS:
        io = NWBHDF5IO(str(nwb_path(day, s)), "r")
        out[s] = (io, io.read())
    yield {s: f for s, (_, f) in out.items()}
    for io, _ in out.values():
        io.close()


def test_metadata(files):
    for s, f in files.items():
        assert f.session_start_time == START
        assert f.subject.subject_id == "picasso"
        assert f.subject.species == defaults("nwb")["species"]
        assert f.session_id == f"picasso_20181105_{s}"
        task = "calibration" if s == "sessioneye" else "navigation"
        assert task in f.session_description
        assert "hippoflow" in dict(map(tuple, f.was_generated_by))
        prov = f.scratch["hippoflow_provenance"].data
        assert '"config"' in prov and "rplparallel_d41d.hkl" in prov


def sha256_of(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_provenance_digests_equal_hashlib_and_the_ns5s_come_from_the_split(files, small_day_run):
    """Every input digest in the file's provenance is hashlib's of the file; the .ns5's was
    taken from the split's record beside the session's outputs."""
    _, outroot, cfg, _ = small_day_run
    for s, f in files.items():
        prov = json.loads(f.scratch["hippoflow_provenance"].data)
        ns5 = str(next(Path(cfg["data_root"]).joinpath(*DAY, s).glob("*.ns5")))
        assert ns5 in prov["inputs"] and len(prov["inputs"]) > 10
        for path, digest in prov["inputs"].items():
            assert digest == sha256_of(path), path
        record = outroot.joinpath(*DAY, s, "hippoflow_digest_ns5.json")
        assert prov["digest_records"] == {ns5: str(record)}


def read_chars() -> int:
    """Bytes this process has read through read()/pread() calls so far (Linux)."""
    text = Path("/proc/self/io").read_text()
    return int(next(line for line in text.splitlines() if line.startswith("rchar:")).split()[1])


def test_the_ns5_digest_is_the_records_and_its_data_are_not_read(small_day_run, tmp_path):
    """On a copy of session01's .ns5 grown to 64 MB (its header unchanged): with a record
    whose size and mtime match but whose digest is not the file's, the NWB file carries the
    record's digest and the job reads far less than the file; without a record it carries
    hashlib's digest and reads the file whole (the reading probe sees a whole read); a
    record naming it through a link is its record; a record of a file that changed since, or
    of another file, stops the job with its path."""
    from hippoflow.nwb.steps import nwb

    _, outroot, cfg, _ = small_day_run
    sdir = outroot.joinpath(*DAY, "session01")
    ns5 = tmp_path / "copy.ns5"
    ns5.write_bytes(
        next(Path(cfg["data_root"]).joinpath(*DAY, "session01").glob("*.ns5")).read_bytes()
    )
    os.truncate(ns5, 64 << 20)
    st, true = ns5.stat(), sha256_of(ns5)
    other = hashlib.sha256(b"not the file").hexdigest()
    record = tmp_path / "hippoflow_digest_ns5.json"
    rec = {"path": str(ns5), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": other}
    record.write_text(json.dumps(rec))
    lfp = [sdir / f"array{a}" / f"channel{c}" / "rpllfp_6eca.hkl" for a, c in CHANNELS]
    kw = dict(
        subject="picasso",
        day="20181105",
        session="session01",
        header=ns5,
        rpl=sdir / "rplparallel_d41d.hkl",
        channels=CHANNELS,
        lfp=lfp,
        cfg=defaults("nwb"),
    )

    def written(out, **more):
        before = read_chars()
        nwb(out, **kw, **more)
        read = read_chars() - before
        with NWBHDF5IO(str(out), "r") as io:
            return json.loads(io.read().scratch["hippoflow_provenance"].data), read

    prov, read = written(tmp_path / "record.nwb", ns5_digest=record)
    assert prov["inputs"][str(ns5)] == other != true
    assert prov["digest_records"] == {str(ns5): str(record)}
    assert read < st.st_size / 8, read
    prov, read = written(tmp_path / "hashed.nwb")
    assert prov["inputs"][str(ns5)] == true and prov["digest_records"] == {}
    assert read >= st.st_size, read
    # a record naming the file by another path (a symbolic link to it) is of the same file
    (tmp_path / "link.ns5").symlink_to(ns5)
    record.write_text(json.dumps({**rec, "path": str(tmp_path / "link.ns5")}))
    prov, _ = written(tmp_path / "link.nwb", ns5_digest=record)
    assert prov["inputs"][str(ns5)] == other

    record.write_text(json.dumps(rec))
    os.utime(ns5, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(
        InputError, match=f"^{re.escape(str(ns5))}: changed after its digest was taken"
    ):
        nwb(tmp_path / "stale.nwb", **kw, ns5_digest=record)
    record.write_text(json.dumps({**rec, "path": str(tmp_path / "elsewhere.ns5")}))
    with pytest.raises(
        InputError, match=f"^{re.escape(str(record))}: digest record of .*elsewhere.ns5, not"
    ):
        nwb(tmp_path / "other.nwb", **kw, ns5_digest=record)
    assert not [p for p in tmp_path.iterdir() if "stale" in p.name or "other" in p.name]


def test_trials_equal_rplparallel_markers(files, day):
    for s, f in files.items():
        rpl = day.joinpath(*DAY, s, "rplparallel_d41d.hkl")
        markers, times = hkl(rpl, "markers"), hkl(rpl, "timeStamps")
        trials = f.trials.to_dataframe()
        assert len(trials) == len(markers) > 0
        np.testing.assert_array_equal(trials["start_time"], times[:, 0])
        np.testing.assert_array_equal(trials["cue_offset_time"], times[:, 1])
        np.testing.assert_array_equal(trials["stop_time"], times[:, 2])
        np.testing.assert_array_equal(trials["end_code"], markers[:, 2])
        if s != "sessioneye":
            np.testing.assert_array_equal(trials["poster"], markers[:, 0] % 10)
            np.testing.assert_array_equal(trials["timeout"], markers[:, 2] // 10 == 4)
            assert not trials["dubious"].any()  # the generator's Unity agrees with Ripple


def test_lfp_equals_rpllfp_files(files, day):
    for s, f in files.items():
        series = f.processing["ecephys"]["LFP"]["LFP"]
        assert series.rate == 1000.0 and series.conversion == 1e-6
        assert "1-150 Hz" in series.filtering
        names = list(f.electrodes["channel_name"][:])
        assert names == [f"array{a}/channel{c}" for a, c in CHANNELS]
        assert [g.name for g in f.electrodes["group"][:]] == [f"array{a}" for a, _ in CHANNELS]
        for j, (a, c) in enumerate(CHANNELS):
            lfp = hkl(day.joinpath(*DAY, s, f"array{a}", f"channel{c}", "rpllfp_6eca.hkl"), "data")
            np.testing.assert_array_equal(series.data[:, j], lfp)


def spike_rows(path: Path) -> list[float]:
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return [float(v) for v in rows[0]] if rows and rows[0] else []


def test_units_equal_spiketrain_files_and_keep_their_ids(files, day):
    ids = {}
    for s, f in files.items():
        units = f.units.to_dataframe()
        ids[s] = set(units.index)
        for a, c in CHANNELS:
            cdir = day.joinpath(*DAY, s, f"array{a}", f"channel{c}")
            for cell_dir in sorted(cdir.glob("cell*")):
                uid = int(c) * 1000 + int(cell_dir.name[4:])
                row = units.loc[uid]
                ms = spike_rows(cell_dir / "spiketrain.csv")
                assert row["cell"] == cell_dir.name
                assert len(row["spike_times"]) == len(ms)
                np.testing.assert_allclose(row["spike_times"], np.array(ms) / 1000.0)
        assert ids[s], f"{s}: no units"
    assert ids["session01"] == ids["session02"] == ids["sessioneye"]
    units = files["session01"].units
    assert units.waveform_mean.data.shape[1] == 90 and units.resolution == 1 / 30000


def test_behaviour_equals_aligned_unity_eyelink_and_raycast(files, day):
    for s in ("session01", "session02"):
        f, sdir = files[s], day.joinpath(*DAY, s)
        unity = hickle.load(str(sdir / "unity_71bf.hkl"))
        data, time = unity["unityData"][0], unity["unityTime"][0]
        pos = f.processing["behavior"]["Position"]["position"]
        np.testing.assert_array_equal(pos.data[:], data[:, 2:4])
        np.testing.assert_array_equal(pos.timestamps[:], time[1:])
        heading = f.processing["behavior"]["CompassDirection"]["heading"]
        np.testing.assert_array_equal(heading.data[:], data[:, 4])
        eye = hickle.load(str(sdir / "eyelink_24d5.hkl"))
        gaze = f.processing["behavior"]["EyeTracking"]["gaze"]
        np.testing.assert_array_equal(gaze.data[:], eye["eye_pos"].to_numpy())
        np.testing.assert_array_equal(gaze.timestamps[:], eye["timestamps"].to_numpy())
        fix = f.intervals["fixations"].to_dataframe()
        np.testing.assert_array_equal(fix["start_time"], eye["fix_times"]["start"])
        assert len(f.intervals["saccades"]) > 0
        pupil = f.processing["behavior"]["PupilTracking"]["pupil_area"]
        assert pupil.data.shape == (len(gaze.timestamps),)
        with open(sdir / "unityfile_eyelink.csv", newline="") as fh:
            rows = [r for r in csv.DictReader(fh) if r["type"] == "SAMPLE"]
        hits = f.processing["behavior"]["raycast"]
        assert list(hits["object"][:]) == [r["object"] for r in rows]
    # the fixation session: gaze from its calibration samples, no Unity
    eye = files["sessioneye"].processing["behavior"]
    assert "Position" not in eye.data_interfaces and "EyeTracking" in eye.data_interfaces


def test_nwbinspector_finds_nothing_critical_nor_a_violation(day):
    from nwbinspector import Importance, inspect_all

    messages = list(inspect_all(path=str(day), n_jobs=1))
    assert {m.file_path for m in messages} <= {str(nwb_path(day, s)) for s in SESSIONS}
    bad = [
        f"{m.importance.name} {m.check_function_name} {m.location}: {m.message}"
        for m in messages
        if m.importance in (Importance.CRITICAL, Importance.BEST_PRACTICE_VIOLATION)
        or m.importance.name == "ERROR"
    ]
    assert bad == []
    assert len(list(Path(day).rglob("*.nwb"))) == 3


def test_highpass_series_is_streamed_chunked_and_compressed(small_day_run, tmp_path):
    """nwb.highpass: the 30 kHz series, written through a buffer smaller than the data."""
    from hippoflow.nwb import ecephys
    from hippoflow.nwb.steps import nwb

    _, day, cfg, _ = small_day_run
    sdir = day.joinpath(*DAY, "session01")
    hp = [sdir / f"array{a}" / f"channel{c}" / "rplhighpass_b59f.hkl" for a, c in CHANNELS]
    out = tmp_path / "hp.nwb"
    old = ecephys.BUFFER_GB
    ecephys.BUFFER_GB = 1e-3  # 1 MB buffers: the 9.6 MB series takes several
    try:
        nwb(
            out,
            subject="picasso",
            day="20181105",
            session="session01",
            header=next(Path(cfg["data_root"]).joinpath(*DAY, "session01").glob("*.ns5")),
            rpl=sdir / "rplparallel_d41d.hkl",
            channels=CHANNELS,
            lfp=[p.with_name("rpllfp_6eca.hkl") for p in hp],
            highpass=hp,
            cfg={**defaults("nwb"), "highpass": True},
        )
    finally:
        ecephys.BUFFER_GB = old
    with h5py.File(out, "r") as f:
        ds = f["acquisition/highpass/data"]
        assert ds.compression == "gzip" and ds.chunks is not None
        assert f["acquisition/highpass/data"].attrs["conversion"] == 1e-6
        for j, p in enumerate(hp):
            np.testing.assert_array_equal(ds[:, j], hkl(p, "data"))


def test_rule_inputs_follow_the_config(small_day_run, tmp_path):
    """behaviour.eyelink false: the nwb jobs read no EyeLink output (nwb.enabled false, no
    nwb job: tests/unit/test_nwb.py, on the plan)."""
    _, outroot, cfg, _ = small_day_run
    off = run_snakemake(
        tmp_path, "-n", "--forceall", "-p", config={**cfg, "behaviour": "{eyelink: false}"}
    )
    assert job_counts(off.stdout)["nwb"] == 3
    jobs = [j for j in off.stdout.split("\n\n") if "rule nwb:" in j]
    assert len(jobs) == 3
    assert not any("eyelink_24d5" in j or "edfsplit" in j for j in jobs)
    assert all("unity_71bf" in j for j in jobs if "sessioneye" not in j)
    # every session is split: each job reads the split's record of its .ns5 (and the .ns5,
    # for its header)
    assert all("hippoflow_digest_ns5.json" in j and ".ns5" in j for j in jobs)


def docs_examples(day) -> list[str]:
    """docs/outputs.md's python blocks, their file path pointed at this run's session01."""
    from conftest import REPO

    text = (REPO / "docs" / "outputs.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    printed = "demo/data/picasso/20181105/session01/picasso_20181105_session01.nwb"
    assert len(blocks) == 2 and all(printed in b for b in blocks)
    return [b.replace(printed, str(nwb_path(day, "session01"))) for b in blocks]


def run_python(code: str) -> str:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_docs_pynwb_example_runs_as_printed(day):
    out = run_python(docs_examples(day)[0])
    assert "2018-11-05 10:00:00+00:00 picasso session01" in out
    assert "(20000, 4) 1000.0 Hz" in out


def test_docs_spikeinterface_example_runs_as_printed(day, files):
    """SpikeInterface's reading, as the docs print it, gives the units table's ids and the
    first unit's spike times (pynwb's reading) in samples at 30 kHz."""
    out = run_python(docs_examples(day)[1]).splitlines()
    units = files["session01"][1].units.to_dataframe()
    ids = [int(x) for x in re.findall(r"\d+", out[0])]
    assert ids == list(units.index)
    first = [int(x) for x in re.findall(r"\d+", out[1])]
    want = np.round(np.asarray(units["spike_times"].iloc[0][:5]) * 30000).astype(int)
    assert first == list(want)
