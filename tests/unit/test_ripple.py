"""Ripple steps checked against neo's own reading and PyHipp's filter method."""

import warnings

import neo.rawio
import numpy as np
import pytest
from scipy import signal

from hippoflow import plan as discover
from hippoflow.errors import InputError
from hippoflow.ripple import filters, markers, nsx, split
from hippoflow.ripple.nev import read_nev_events
from hippoflow.synth.day import electrode_ids, marker_stream


def neo_reader(path, nsx=5):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = neo.rawio.BlackrockRawIO(filename=str(path), nsx_to_load=nsx)
        r.parse_header()
    return r


@pytest.fixture(scope="module")
def session(small_day):
    return small_day / "picasso" / "20181105" / "session01"


def test_markers_equal_neos_reading(session):
    nev = session / "181105_Block1.nev"
    r = neo_reader(session / "181105_Block1", nsx=None)
    idx = [str(n) for n in r.header["event_channels"]["name"]].index("digital_input_port")
    ts, _, labels = r.get_event_timestamps(0, 0, idx)
    neo_codes = np.asarray(labels).astype(int)
    neo_times = r.rescale_event_timestamp(ts, dtype="float64", event_channel_index=idx)

    codes, times = read_nev_events(nev)
    obj = markers.arrange_markers(codes, times, nev)
    np.testing.assert_array_equal(obj["rawMarkers"], neo_codes)
    assert neo_codes[0] == 84
    np.testing.assert_array_equal(obj["markers"].ravel(), neo_codes[2::2])
    np.testing.assert_allclose(obj["timeStamps"].ravel(), neo_times[2::2])
    np.testing.assert_array_equal(obj["trialIndices"], np.floor(obj["timeStamps"] * 30000))
    assert obj["sessionStartTime"] == pytest.approx(neo_times[0])
    assert obj["markers"].shape[1] == 3


NEO_UNITS_TO_UV = {"uV": 1.0, "mV": 1000.0}


def test_split_equals_neo_times_gain_and_banks(session):
    ns5 = session / "181105_Block1.ns5"
    header, blocks = split.open_session_ns5([ns5])
    ids = [c.electrode_id for c in header.channels]
    got = {e: [] for e in ids}
    split.split_stream(header, blocks, ids, lambda e, s, v: got[e].append(v.copy()), chunk=12345)
    r = neo_reader(session / "181105_Block1")
    raw = r.get_analogsignal_chunk(0, 0, None, None, stream_index=0)
    chans = r.header["signal_channels"]
    for j, e in enumerate(ids):
        assert int(chans["id"][j]) == e
        # neo's gain is in the channel's units: the analog inputs are in mV
        scale = NEO_UNITS_TO_UV[str(chans["units"][j])]
        expected = (raw[:, j].astype(np.float64) * chans["gain"][j] + chans["offset"][j]) * scale
        np.testing.assert_array_equal(np.concatenate(got[e]), expected.astype(np.float32))
    # the generated file is Ripple-style: electrodes on connectors 0-3 as neo reads the byte,
    # so array = connector + 1; the two analog inputs (mV, ids 10241+) are not planned
    ext = r._nsx_ext_header[5]
    electrode = np.array([str(u) == "uV" for u in chans["units"]])
    assert [int(i) for i in ext["electrode_id"][~electrode]] == [10241, 10242]
    connectors = [int(c) for c in ext["physical_connector"][electrode]]
    assert min(connectors) == 0
    pairs = discover.header_channels(ns5)
    assert [int(a) for a, _ in pairs] == [c + 1 for c in connectors]
    assert [int(c) for _, c in pairs] == [int(e) for e in ext["electrode_id"][electrode]]


def test_lab_channel_numbering_maps_to_arrays():
    ids = electrode_ids(128)
    assert ids == list(range(1, 129))
    assert electrode_ids(8) == [1, 2, 33, 34, 65, 66, 97, 98]


def pyhipp_filtfilt(x, low, high, order, fs):
    b, a = signal.butter(order, [low / (fs / 2), high / (fs / 2)], "bandpass")
    return signal.filtfilt(b, a, x, padtype="odd", padlen=3 * (max(len(b), len(a)) - 1))


def test_highpass_agrees_with_pyhipp_method():
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.standard_normal(300_001)).astype(np.float32) + 50 * rng.standard_normal(
        300_001
    ).astype(np.float32)
    ref = pyhipp_filtfilt(x.astype(np.float64), 500, 7500, 4, 30000)
    out = np.empty_like(x)

    def write(s, y):
        out[s : s + y.size] = y

    sos = filters.bandpass_sos(500, 7500, 4, 30000)
    filters.filtfilt_stream(
        sos,
        x.size,
        lambda s, e: x[s:e],
        write,
        lambda s, e: out[s:e],
        filters.pyhipp_padlen(4),
        chunk=50_000,
        dtype=np.float32,  # as rplhighpass runs it
    )
    rms = np.sqrt(np.mean(ref**2))
    assert np.max(np.abs(out - ref)) <= 1e-3 * rms
    assert out.dtype == np.float32


def test_lfp_agrees_with_pyhipp_method():
    rng = np.random.default_rng(4)
    n = 30 * 20_000 + 7
    t = np.arange(n) / 30000
    x = (40 * np.sin(2 * np.pi * 8 * t) + 20 * rng.standard_normal(n)).astype(np.float32)
    lfp = signal.resample_poly(x.astype(np.float64), 1000, 30000)
    ref = pyhipp_filtfilt(lfp, 1, 150, 4, 1000)
    out = filters.lowpass(n, lambda s, e: x[s:e], 30000, 1000, 8, (1, 150), chunk=65_536)
    rms = np.sqrt(np.mean(ref**2))
    assert out.shape == ref.shape
    assert np.max(np.abs(out - ref)) <= 1e-3 * rms


def test_arrange_without_session_marker_two_columns():
    # PyHipp's rule: first code <= 1 and second code not 2 -> N x 2
    codes = np.array([1, 0, 3, 0, 1, 0, 3, 0])
    times = np.arange(8) / 10
    obj = markers.arrange_markers(codes, times)
    np.testing.assert_array_equal(obj["markers"], [[1, 3], [1, 3]])
    np.testing.assert_allclose(obj["timeStamps"], [[0.0, 0.2], [0.4, 0.6]])


def test_arrange_without_session_marker_one_then_two_is_three_columns():
    # PyHipp's rule: first code 1 and second code 2 -> N x 3, even for 1, 2 pairs
    codes = np.array([1, 0, 2, 0, 1, 0, 2, 0, 1, 0, 2, 0])
    times = np.arange(12) / 10
    obj = markers.arrange_markers(codes, times)
    np.testing.assert_array_equal(obj["markers"], [[1, 2, 1], [2, 1, 2]])
    np.testing.assert_allclose(obj["timeStamps"], [[0.0, 0.2, 0.4], [0.6, 0.8, 1.0]])


def test_arrange_204_session_marker_and_timeouts():
    plan = {
        "session_start": 0.5,
        "codes": np.array([[13, 23, 43], [13, 23, 33]]),
        "times": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
    }
    ticks, values = marker_stream(plan)
    values[0] = 204
    obj = markers.arrange_markers(values, ticks / 30000)
    np.testing.assert_array_equal(obj["markers"], plan["codes"])
    np.testing.assert_allclose(obj["timeStamps"], plan["times"])


@pytest.mark.parametrize(
    "codes, message",
    [
        ([84, 0], "no trial markers"),
        ([84, 0, 11, 0, 21, 0, 31], "without its trailing 0"),
        ([84, 0, 11, 0, 21, 0, 31, 0, 12, 0], "incomplete trial"),
        ([84, 0, 11, 0, 21, 0, 51, 0], "trial 1 has code 51"),
        ([84, 0, 11, 5, 21, 0, 31, 0], "where the 0 after a code belongs"),
    ],
)
def test_bad_marker_streams_name_the_position(codes, message):
    with pytest.raises(InputError, match=message) as err:
        markers.arrange_markers(
            np.array(codes), np.arange(len(codes)) / 10.0, "x/181105_Block1.nev"
        )
    assert "x/181105_Block1.nev" in str(err.value)


def test_header_lacking_channels_is_named(tmp_path):
    chans = [nsx.ChannelSpec(e, 1, e) for e in (1, 2, 3)]
    path = tmp_path / "bad.ns5"
    with open(path, "wb") as f:
        f.write(nsx.nsx_header_bytes(chans))
        f.write(nsx.nsx_block_header(0, 100))
        f.write(np.zeros((100, 2), "<i2").tobytes())
    with pytest.raises(
        InputError, match="header lists 3 channels but the data block holds 100 samples of only 2"
    ):
        split.open_session_ns5([path])
