"""The Ripple chain through the real snakemake command on generated days."""

from __future__ import annotations

import shutil

import hickle
import numpy as np
import pytest
from conftest import digests, generate, job_counts, run_snakemake

from hippoflow.ripple import nsx
from hippoflow.ripple.nev import read_nev_header, write_nev


@pytest.fixture(scope="module")
def ran(small_day_run):
    """The whole workflow run once on the small day (tests/conftest.py; the NWB tests read the
    same run), outputs in a separate root."""
    return small_day_run


def test_dry_run_lists_expected_jobs(small_day, tmp_path):
    proc = run_snakemake(
        tmp_path, "-n", config={"data_root": small_day, "output_root": tmp_path / "o"}
    )
    counts = job_counts(proc.stdout)
    sessions, channels = 3, 4
    assert counts["rplparallel"] == sessions
    assert counts["rplsplit"] == sessions
    assert counts["rpllfp"] == sessions  # every channel of a session in one job
    assert counts["rplhighpass"] == sessions * channels


def test_outputs_layout_and_contents(ran, small_day):
    work, outroot, _, before = ran
    day = outroot / "picasso" / "20181105"
    for session in ("session01", "session02", "sessioneye"):
        obj = hickle.load(str(day / session / "rplparallel_d41d.hkl"))
        assert {
            "markers",
            "timeStamps",
            "trialIndices",
            "rawMarkers",
            "sessionStartTime",
            "samplingRate",
            "args",
            "dirs",
        } <= set(obj)
        for array, channel in (("01", "001"), ("02", "033"), ("03", "065"), ("04", "097")):
            cdir = day / session / f"array{array}" / f"channel{channel}"
            raw = hickle.load(str(cdir / "rplraw_d41d.hkl"))
            lfp = hickle.load(str(cdir / "rpllfp_6eca.hkl"))
            hp = hickle.load(str(cdir / "rplhighpass_b59f.hkl"))
            assert raw["data"].ndim == 1 and raw["data"].size == 20 * 30000
            assert lfp["data"].dtype == np.float32 and lfp["data"].size == 20 * 1000
            assert hp["data"].dtype == np.float32 and hp["data"].size == raw["data"].size
            assert lfp["args"] == {
                "ResampleRate": 1000,
                "LFPOrder": 8,
                "LowPassFrequency": [1, 150],
            }
            assert hp["args"] == {"HighOrder": 8, "HighPassFrequency": [500, 7500]}
            assert raw["analogInfo"]["ProbeInfo"] == f"raw {int(channel)}"
            assert lfp["analogInfo"]["ProbeInfo"] == f"lfp {int(channel)}"
            assert hp["analogInfo"]["ProbeInfo"] == f"hp {int(channel)}"
            assert hp["analogInfo"]["MaxVal"] == pytest.approx(float(hp["data"].max()))
            assert raw["dirs"] == [str(cdir.resolve())]
    # raw data untouched; logs and benchmarks written per job
    assert digests(small_day) == before
    assert (
        work / "logs" / "rplsplit" / "picasso" / "20181105" / "session01.log"
    ).stat().st_size > 0
    assert list((work / "benchmarks" / "runs" / "rplhighpass").rglob("*.tsv"))


def test_single_channel_rerun_touches_only_its_file(ran):
    work, outroot, cfg, _ = ran
    files = sorted(p for p in outroot.rglob("*.hkl"))
    mtimes = {p: p.stat().st_mtime_ns for p in files}
    target = outroot / "picasso/20181105/session02/array03/channel065/rplhighpass_b59f.hkl"
    proc = run_snakemake(work, "--cores", "1", "-f", str(target), config=cfg)
    assert job_counts(proc.stderr + proc.stdout) == {"rplhighpass": 1, "total": 1}
    changed = [p for p in files if p.stat().st_mtime_ns != mtimes[p]]
    assert changed == [target]


def test_dag_and_rulegraph_render_with_dot(ran, tmp_path):
    work, _, cfg, _ = ran
    dot = shutil.which("dot")
    assert dot, "graphviz is installed by `make test` (system-deps)"
    import subprocess

    for flag in ("--dag", "--rulegraph"):
        proc = run_snakemake(work, flag, config=cfg)
        svg = subprocess.run([dot, "-Tsvg"], input=proc.stdout, capture_output=True, text=True)
        assert svg.returncode == 0 and "<svg" in svg.stdout
        assert "rplsplit" in svg.stdout


def test_wrong_config_key_is_named(small_day, tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(f"data_root: {small_day}\nchanels: all\n")
    proc = run_snakemake(tmp_path, "-n", "--configfile", str(cfg), check=False)
    assert proc.returncode != 0
    assert "chanels" in proc.stderr + proc.stdout


# ----------------------------------------------------------------------------- bad input
def _truncate_last_block(session):
    ns5 = next(session.glob("*.ns5"))
    with open(ns5, "r+b") as f:
        f.truncate(ns5.stat().st_size - 1001)


def _second_ns5(session):
    ns5 = next(session.glob("*.ns5"))
    shutil.copy(ns5, session / "181102_Block2.ns5")


def _nev_out_of_order(session):
    nev = next(session.glob("*.nev"))
    h = read_nev_header(nev)
    data = bytearray(nev.read_bytes())
    a = h.bytes_in_headers + 2 * h.packet_size  # swap the 3rd and 4th packets
    b = a + h.packet_size
    data[a:b], data[b : b + h.packet_size] = data[b : b + h.packet_size], data[a:b]
    nev.write_bytes(bytes(data))


def _nev_without_trials(session):
    nev = next(session.glob("*.nev"))
    write_nev(nev, [15000, 15030], [84, 0])


def _spec_mismatch(session):
    nev = next(session.glob("*.nev"))
    data = bytearray(nev.read_bytes())
    data[9] = 2  # file spec 2.2 beside a 2.3 .ns5
    nev.write_bytes(bytes(data))


def _header_claims_more_channels(session):
    ns5 = next(session.glob("*.ns5"))
    header = nsx.read_nsx_header(ns5)
    blocks = nsx.nsx_data_blocks(header)
    n_ch = len(header.channels)
    data = np.memmap(ns5, "<i2", "r", offset=blocks[0].offset, shape=(blocks[0].n_samples, n_ch))
    data = np.array(data)
    chans = [nsx.ChannelSpec(c.electrode_id, c.bank, c.pin) for c in header.channels]
    chans.append(nsx.ChannelSpec(3, 1, 3))
    with open(ns5, "wb") as f:
        f.write(nsx.nsx_header_bytes(chans))
        f.write(nsx.nsx_block_header(0, data.shape[0]))
        f.write(data.tobytes())


BAD = {
    "20181101": (_truncate_last_block, ["rplsplit"], "truncated: data block 1"),
    "20181102": (_second_ns5, ["input_problem"], "expected exactly one .ns5 per session, found 2"),
    "20181103": (_nev_out_of_order, ["rplparallel"], "packets out of time order"),
    "20181104": (_nev_without_trials, ["rplparallel"], "no trial markers"),
    # the pair check is made while planning: a job of its own; the split and markers are made
    "20181105": (_spec_mismatch, ["input_problem"], "file spec 2.2 differs"),
    "20181106": (
        _header_claims_more_channels,
        ["rplsplit"],
        "header lists 5 channels but the data",  # 2 electrodes, 2 analog inputs, 1 added
    ),
}


def test_bad_inputs_fail_only_their_own_jobs(tmp_path):
    root = tmp_path / "data"
    days = list(BAD) + ["20181107"]
    generate(root, "--channels", 2, "--seconds", 20, "--no-eye", "--days", *days)
    for day, (damage, _, _) in BAD.items():
        damage(root / "picasso" / day / "session01")
    before = digests(root)
    out = tmp_path / "out"
    cfg = {"data_root": root, "output_root": out, "channels": "[1,33,999]"}
    # the Ripple steps and the problem jobs only (what this test checks): sorting, behaviour
    # and NWB of seven days would triple its time (they have tests of their own)
    ripple = ["--until", "rplparallel", "rpllfp", "rplhighpass", "input_problem"]
    proc = run_snakemake(tmp_path, "--cores", "2", "--keep-going", *ripple, config=cfg, check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, "the run must report that something failed"
    assert digests(root) == before, "raw files must stay byte-identical"

    for day, (_, rules, message) in BAD.items():
        session = root / "picasso" / day / "session01"
        logs = {r: (tmp_path / "logs" / r / "picasso" / day) for r in rules}
        for rule, logdir in logs.items():
            content = "".join(p.read_text() for p in logdir.rglob("*.log"))
            assert message in content, f"{day} {rule}: {content[-500:]}"
            assert str(session) in content, f"{day}: the message must name the file"
        assert message in text
        sdir = out / "picasso" / day / "session01"
        # nothing complete-looking for the failed steps
        if "rplsplit" in rules or day == "20181102":
            assert not list(sdir.rglob("rplraw_*.hkl"))
            assert not list(sdir.rglob("*.tmp*"))
        if "rplparallel" in rules:
            assert not (sdir / "rplparallel_d41d.hkl").exists()
        else:
            assert (sdir / "rplparallel_d41d.hkl").exists(), f"{day}: markers are its own job"
    # the bad nev did not stop that session's split and filters
    assert (out / "picasso/20181105/session01/array01/channel001/rpllfp_6eca.hkl").exists()
    assert (out / "picasso/20181103/session01/array02/channel033/rplhighpass_b59f.hkl").exists()
    assert (out / "picasso/20181104/session01/array01/channel001/rpllfp_6eca.hkl").exists()
    # the good day completed; the unknown channel failed a job of its own, naming itself
    good = out / "picasso/20181107/session01"
    for ch in ("array01/channel001", "array02/channel033"):
        assert (good / ch / "rplhighpass_b59f.hkl").exists()
    assert "channel 999 from config 'channels' is in no .ns5 header" in text
    assert "181107_Block1.ns5" in text
