"""NSx files in every header version, written by other people, read against neo.

The real files (mne-testing-data's ``nsx/``, see ``shared/realdata/README.md``) are read in
place: spec 2.3 (a real 5-electrode recording, uV), 2.2 and 3.0 (128 channels, mV) must give
neo's channel ids, count, rate and every sample in microvolts; 2.1 is refused with a message
naming the version.  Synthetic 2 kHz files (our writer) go through the filter steps, which
must use the file's rate or refuse it clearly; spec 3.0 files of one-sample packets (Gemini's
layout) are made with the writer and read against neo too.
"""

import struct
import warnings
from pathlib import Path

import neo.rawio
import numpy as np
import pytest
from scipy import signal

from hippoflow import dpt, plan
from hippoflow.errors import InputError
from hippoflow.naming import HIGHPASS_ARGS, LFP_ARGS
from hippoflow.ripple import nev, nsx, split, steps
from hippoflow.sorting import sort
from tests.conftest import REALDATA

REAL = REALDATA / "blackrock"
pytestmark = pytest.mark.realdata

READ = {  # file: (file spec, header id, channels, samples in file order)
    "Test_anonymized.ns3": ("2.3", "NEURALCD", 5, 100),
    "test_NEURALCD_raw.ns3": ("2.2", "NEURALCD", 128, 100),
    "test_BRSMPGRP_raw.ns3": ("3.0", "BRSMPGRP", 128, 100 + 150),
}
SPEC21 = REAL / "test_NEURALSG_raw.ns3"
NEO_UNITS_TO_UV = {"uV": 1.0, "mV": 1000.0}


def neo_reader(path: Path, nsx_nb: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = neo.rawio.BlackrockRawIO(filename=str(path), nsx_to_load=nsx_nb)
        r.parse_header()
    return r


def neo_microvolts(path: Path, nsx_nb: int) -> tuple[np.ndarray, np.ndarray]:
    """(channel ids, float64 microvolts (samples, channels)) of every segment in order.

    neo's gain and offset are in the channel's units (mV for two of the files): scaled here.
    """
    r = neo_reader(path, nsx_nb)
    chans = r.header["signal_channels"]
    scale = np.array([NEO_UNITS_TO_UV[str(u)] for u in chans["units"]])
    segs = [
        r.get_analogsignal_chunk(0, s, None, None, stream_index=0)
        for s in range(r.segment_count(0))
    ]
    raw = np.concatenate(segs).astype(np.float64)
    return chans["id"].astype(int), (raw * chans["gain"] + chans["offset"]) * scale


def stream_all(header, blocks, chunk):
    ids = [c.electrode_id for c in header.channels]
    got = {e: [] for e in ids}
    ext = split.split_stream(header, blocks, ids, lambda e, s, v: got[e].append(v.copy()), chunk)
    return ids, np.stack([np.concatenate(got[e]) for e in ids], axis=1), ext


def test_the_real_files_are_there():
    assert sorted(p.name for p in REAL.iterdir()) == sorted([*READ, SPEC21.name])


@pytest.mark.parametrize("name", sorted(READ))
def test_header_equals_neos(name):
    path = REAL / name
    spec, file_id, n_ch, _ = READ[name]
    r = neo_reader(path, 3)
    chans = r.header["signal_channels"]
    h = nsx.read_nsx_header(path)
    assert h.spec == r._nsx_spec[3] == spec
    assert h.file_id == file_id
    assert len(h.channels) == len(chans) == n_ch
    assert [c.electrode_id for c in h.channels] == [int(i) for i in chans["id"]]
    assert h.sampling_rate == float(chans["sampling_rate"][0]) == 2000.0
    assert [c.units for c in h.channels] == [str(u) for u in chans["units"]]
    for c, g, o, u in zip(h.channels, chans["gain"], chans["offset"], chans["units"], strict=True):
        assert c.gain == g * NEO_UNITS_TO_UV[str(u)]
        assert c.offset == o * NEO_UNITS_TO_UV[str(u)]


@pytest.mark.parametrize("chunk", [37, 1 << 15])
@pytest.mark.parametrize("name", sorted(READ))
def test_every_sample_equals_neos_microvolts(name, chunk):
    path = REAL / name
    *_, n_samples = READ[name]
    h = nsx.read_nsx_header(path)
    blocks = nsx.nsx_data_blocks(h)
    ids, ours, ext = stream_all(h, blocks, chunk)
    neo_ids, ref = neo_microvolts(path, 3)
    assert ids == list(neo_ids)
    assert ours.shape == ref.shape == (n_samples, len(ids))
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, ref.astype(np.float32))
    assert float(np.max(np.abs(ours - ref))) <= 1e-4 * float(np.max(np.abs(ref)))
    for j, e in enumerate(ids):
        assert ext[e] == (float(ours[:, j].min()), float(ours[:, j].max()))


def test_mv_channels_are_scaled_to_microvolts():
    h = nsx.read_nsx_header(REAL / "test_NEURALCD_raw.ns3")
    # +-5000 mV over +-8192 digital: 0.6103515625 mV = 610.3515625 uV per unit (as MNE's cal)
    assert {c.units for c in h.channels} == {"mV"}
    assert {c.gain for c in h.channels} == {10000 / 16384 * 1000}


def test_spec30_packets_with_64_bit_time_stamps():
    h = nsx.read_nsx_header(REAL / "test_BRSMPGRP_raw.ns3")
    assert h.packet_header_bytes == 13
    blocks = nsx.nsx_data_blocks(h)
    r = neo_reader(REAL / "test_BRSMPGRP_raw.ns3", 3)
    assert [b.n_samples for b in blocks] == [
        r.get_signal_size(0, s, 0) for s in range(r.segment_count(0))
    ]
    assert [b.timestamp for b in blocks] == [0, 2250]  # 30 kHz ticks: 0 and 75 ms
    assert all(b.stride == 0 for b in blocks)


def test_rplsplit_writes_the_files_rate_and_neos_values(tmp_path):
    path = REAL / "Test_anonymized.ns3"
    h = nsx.read_nsx_header(path)
    ids = [c.electrode_id for c in h.channels]
    outs = [tmp_path / f"ch{e:03d}" / "rplraw_d41d.hkl" for e in ids]
    for o in outs:
        o.parent.mkdir()
    steps.rplsplit([path], None, ids, outs, progress=False)
    _, ref = neo_microvolts(path, 3)
    for j, o in enumerate(outs):
        info = dpt.read_flat_dict(o, "analogInfo")
        assert info["SampleRate"] == 2000.0
        assert info["NumberSamples"] == 100
        data = dpt.load_object(o)["data"]
        np.testing.assert_array_equal(data, ref[:, j].astype(np.float32))
    # discovery: arrays are the header's 1-based connectors, as neo reports them
    r = neo_reader(path, 3)
    pairs = plan.header_channels(path)
    assert [int(a) for a, _ in pairs] == [
        int(c) for c in r._nsx_ext_header[3]["physical_connector"]
    ]
    assert [int(c) for _, c in pairs] == ids == [1, 2, 5, 15, 20]


def test_spec21_is_refused_naming_the_version():
    r = neo_reader(SPEC21, 3)
    chans = r.header["signal_channels"]
    # why: the header has no gains or units (neo, without a .nev, returns digital units with
    # gain 1 and no unit) and this file's data are not whole 128-channel frames
    assert set(chans["gain"]) == {1.0} and set(chans["units"]) == {""}
    n = len(chans)
    assert (SPEC21.stat().st_size - (32 + 4 * n)) % (2 * n) != 0
    rate = float(chans["sampling_rate"][0])
    for read in (nsx.read_nsx_header, plan.header_channels):
        with pytest.raises(InputError) as err:
            read(SPEC21)
        msg = str(err.value)
        assert msg.startswith(str(SPEC21))
        assert "file spec 2.1 (NEURALSG)" in msg
        assert f"{n} channels at {rate:g} Hz" in msg
        assert "Convert the file to spec 2.2 or later" in msg


@pytest.mark.parametrize(
    "head, message",
    [
        (b"NEURALCD\x02\x04", r"file spec 2\.4 \(NEURALCD\) is not supported"),
        (b"BRSMPGRP\x03\x01", r"file spec 3\.1 \(BRSMPGRP\) is not supported"),
        (b"NEURALEV\x02\x03", r"not an NSx file \(starts with b'NEURALEV'"),
    ],
)
def test_other_versions_are_refused_naming_them(tmp_path, head, message):
    good = nsx.nsx_header_bytes([nsx.ChannelSpec(1, 1, 1)], period=15)
    path = tmp_path / "x.ns5"
    path.write_bytes(head + good[10:] + nsx.nsx_block_header(0, 1) + b"\x00\x00")
    with pytest.raises(InputError, match=message):
        nsx.read_nsx_header(path)


# ------------------------------------------------------------ spec 3.0, one sample a packet
def write_one_sample_packets(path, data, period=15, resolution=1_000_000_000, t0=10**12):
    """Gemini's spec 3.0 layout: every packet one sample, 64-bit time stamps in ns."""
    chans = [nsx.ChannelSpec(e, 1, e) for e in range(1, data.shape[1] + 1)]
    step = resolution * period // nsx.NSX_CLOCK
    blocks = [(t0 + k * step, data[k : k + 1]) for k in range(data.shape[0])]
    nsx.write_nsx(path, chans, blocks, period=period, version=(3, 0), resolution=resolution)


@pytest.mark.parametrize("chunk", [7, 1 << 12])
def test_one_sample_packets_equal_neos_ptp_reading(tmp_path, chunk):
    rng = np.random.default_rng(5)
    data = rng.integers(-3000, 3000, size=(1001, 3)).astype(np.int16)
    path = tmp_path / "gemini.ns5"
    write_one_sample_packets(path, data)
    h = nsx.read_nsx_header(path)
    assert (h.spec, h.file_id, h.sampling_rate) == ("3.0", "BRSMPGRP", 2000.0)
    blocks = nsx.nsx_data_blocks(h)
    assert len(blocks) == 1 and blocks[0].n_samples == 1001 and blocks[0].stride == 13 + 6
    ids, ours, _ = stream_all(h, blocks, chunk)
    r = neo_reader(path, 5)
    assert r.segment_count(0) == 1
    assert "timestamps_memmap_kwargs" in r._nsx_data_header[5][0]  # neo's PTP reading
    _, ref = neo_microvolts(path, 5)
    np.testing.assert_array_equal(ours, ref.astype(np.float32))
    np.testing.assert_array_equal(ours, data * np.float32(0.25))


def test_a_bad_packet_among_one_sample_packets_is_named(tmp_path):
    data = np.arange(300, dtype=np.int16).reshape(100, 3)
    path = tmp_path / "gemini.ns5"
    write_one_sample_packets(path, data)
    h = nsx.read_nsx_header(path)
    blocks = nsx.nsx_data_blocks(h)
    raw = bytearray(path.read_bytes())
    at = h.bytes_in_headers + 41 * blocks[0].stride  # packet 42's flag byte
    raw[at] = 0
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match=f"data packet 42 at byte {at} is not a one-sample"):
        stream_all(h, blocks, 16)


def test_non_voltage_channel_is_refused_by_name(tmp_path):
    chans = [nsx.ChannelSpec(1, 1, 1), nsx.ChannelSpec(2, 1, 2, units="mA")]
    path = tmp_path / "x.ns5"
    nsx.write_nsx(path, chans, [(0, np.ones((10, 2), np.int16))])
    h = nsx.read_nsx_header(path)
    assert h.channels[1].gain is None
    blocks = nsx.nsx_data_blocks(h)
    split.split_stream(h, blocks, [1], lambda *a: None)  # the voltage channel alone is fine
    with pytest.raises(InputError, match="electrode 2 has units 'mA', not a voltage"):
        split.split_stream(h, blocks, [1, 2], lambda *a: None)


# ------------------------------------------------------------ a 2 kHz .ns5 through the steps
def pyhipp_filtfilt(x, low, high, order, fs):
    b, a = signal.butter(order, [low / (fs / 2), high / (fs / 2)], "bandpass")
    return signal.filtfilt(b, a, x, padtype="odd", padlen=3 * (max(len(b), len(a)) - 1))


@pytest.fixture(scope="module")
def raw_2khz(tmp_path_factory):
    """A 20 s, 2 kHz .ns5 (period 15) split into one rplraw file; returns (path, uV)."""
    d = tmp_path_factory.mktemp("ns5_2khz")
    rng = np.random.default_rng(8)
    n = 20 * 2000 + 3
    t = np.arange(n) / 2000
    uv = 300 * np.sin(2 * np.pi * 6 * t) + 80 * rng.standard_normal(n)
    digital = np.round(uv / 0.25).astype(np.int16)[:, None]
    ns5 = d / "181105_Block1.ns5"
    nsx.write_nsx(ns5, [nsx.ChannelSpec(1, 1, 1)], [(0, digital)], period=15, label="2 kS/s")
    out = d / "channel001" / "rplraw_d41d.hkl"
    out.parent.mkdir()
    steps.rplsplit([ns5], None, [1], [out], progress=False)
    assert dpt.read_flat_dict(out, "analogInfo")["SampleRate"] == 2000.0
    return out, digital[:, 0] * np.float32(0.25)


def test_highpass_band_above_nyquist_is_refused(raw_2khz, tmp_path):
    raw, _ = raw_2khz
    out = tmp_path / "rplhighpass_b59f.hkl"
    with pytest.raises(InputError) as err:
        steps.rplhighpass(raw, out, dict(HIGHPASS_ARGS), progress=False)
    msg = str(err.value)
    assert msg.startswith(str(raw))
    assert "band 500-7500 Hz" in msg and "sampling rate of 2000 Hz" in msg
    assert "Nyquist 1000 Hz" in msg
    assert not out.exists()


def test_lfp_at_2khz_equals_scipy(raw_2khz, tmp_path):
    raw, x = raw_2khz
    out = tmp_path / "rpllfp_6eca.hkl"
    steps.rpllfp(raw, out, dict(LFP_ARGS))
    obj = dpt.load_object(out)
    lfp = signal.resample_poly(x.astype(np.float64), 1, 2)
    low, high = LFP_ARGS["LowPassFrequency"]
    ref = pyhipp_filtfilt(lfp, low, high, LFP_ARGS["LFPOrder"] // 2, 1000)
    assert obj["data"].shape == ref.shape == (20 * 1000 + 2,)
    rms = np.sqrt(np.mean(ref**2))
    assert np.max(np.abs(obj["data"] - ref)) <= 1e-3 * rms
    assert obj["analogInfo"]["SampleRate"] == 1000.0


def test_lfp_rate_not_dividing_the_files_is_refused(raw_2khz, tmp_path):
    raw, _ = raw_2khz
    args = dict(LFP_ARGS, ResampleRate=1500)
    with pytest.raises(InputError, match="sampling rate 2000 Hz is not an integer multiple of"):
        steps.rpllfp(raw, tmp_path / "lfp.hkl", args)


def test_sort_refuses_a_rate_other_than_30khz(tmp_path):
    path = tmp_path / "rplhighpass_b59f.hkl"
    data = np.random.default_rng(1).standard_normal(4000).astype(np.float32)
    dpt.save_object(path, {"data": data, "analogInfo": {"SampleRate": 2000.0}}, {}, [tmp_path])
    with pytest.raises(InputError, match=r"sampled at 2000 Hz .*made for 30000 Hz data") as err:
        sort.concatenate([("session01", path)], tmp_path / "cat.bin")
    assert str(err.value).startswith(str(path))


# ------------------------------------------------------------ NEV time resolution
def test_nev_times_use_the_headers_time_resolution(tmp_path):
    ticks = np.array([1000, 1500, 4000, 4100, 9000, 9100])
    path = tmp_path / "181105_Block1.nev"
    nev.write_nev(path, ticks, [84, 0, 11, 0, 21, 0], resolution=1000)
    assert nev.read_nev_header(path).resolution == 1000
    codes, times = nev.read_nev_events(path)
    np.testing.assert_array_equal(codes, [84, 0, 11, 0, 21, 0])
    np.testing.assert_allclose(times, ticks / 1000)


def test_nev_zero_time_resolution_is_refused(tmp_path):
    path = tmp_path / "x.nev"
    nev.write_nev(path, [10, 20], [84, 0])
    raw = bytearray(path.read_bytes())
    raw[20:24] = struct.pack("<I", 0)
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="time resolution is 0 ticks per second"):
        nev.read_nev_header(path)
