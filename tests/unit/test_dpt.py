import hickle
import numpy as np
import pytest
from dptlike import DPTLike

from hippoflow import dpt, naming


def test_known_hashes():
    # values DataProcessingTools produces for PyHipp's default arguments
    assert dpt.arg_hash({}) == "d41d"
    assert (
        dpt.arg_hash({"ResampleRate": 1000, "LFPOrder": 8, "LowPassFrequency": [1, 150]}) == "6eca"
    )
    assert dpt.arg_hash({"HighOrder": 8, "HighPassFrequency": [500, 7500]}) == "b59f"
    assert dpt.hkl_name("rpllfp", naming.LFP_ARGS) == "rpllfp_6eca.hkl"
    assert dpt.hkl_name("rplhighpass", naming.HIGHPASS_ARGS) == "rplhighpass_b59f.hkl"


def test_hash_depends_on_values_and_order():
    a = dpt.arg_hash({"HighOrder": 8, "HighPassFrequency": [500, 7500]})
    assert dpt.arg_hash({"HighOrder": 6, "HighPassFrequency": [500, 7500]}) != a
    assert dpt.arg_hash({"HighPassFrequency": [500, 7500], "HighOrder": 8}) != a


def test_save_object_has_dpt_keys(tmp_path):
    path = tmp_path / "x" / "obj_d41d.hkl"
    dpt.save_object(path, {"data": np.arange(3.0)}, {"A": 1}, dirs=[tmp_path])
    obj = hickle.load(str(path))
    assert obj["args"] == {"A": 1}
    assert obj["dirs"] == [str(tmp_path)]
    np.testing.assert_array_equal(obj["data"], np.arange(3.0))


def test_streamed_object_roundtrip_with_hickle(tmp_path):
    path = tmp_path / "s.hkl"
    x = np.random.default_rng(0).standard_normal(100_000).astype(np.float32)
    info = {"MaxVal": 0.0, "MinVal": 0.0, "Units": "uV", "ProbeInfo": "raw 7"}
    with dpt.StreamedObject(
        path, "data", x.size, np.float32, {"analogInfo": info}, {}, ["/d"]
    ) as o:
        for s in range(0, x.size, 7777):
            o.dataset[s : s + 7777] = x[s : s + 7777]
        o.set_value("analogInfo", "MaxVal", value=float(x.max()))
        o.commit()
    obj = hickle.load(str(path))
    np.testing.assert_array_equal(obj["data"], x)
    assert obj["analogInfo"]["MaxVal"] == pytest.approx(float(x.max()))
    assert obj["analogInfo"]["ProbeInfo"] == "raw 7"
    assert dpt.read_flat_dict(path, "analogInfo") == obj["analogInfo"]


def test_failed_write_leaves_nothing(tmp_path):
    path = tmp_path / "s.hkl"
    with pytest.raises(RuntimeError):
        with dpt.StreamedObject(path, "data", 10, np.float32, {}, {}, []) as o:
            o.dataset[:5] = 1
            raise RuntimeError("job killed")
    assert list(tmp_path.iterdir()) == []


# ---- DPT bookkeeping: what DataProcessingTools' loader and append read (stated by hand)
ANALOG_INFO_KEYS = {
    "SampleRate",
    "Units",
    "HighFreqCorner",
    "HighFreqOrder",
    "HighFilterType",
    "LowFreqCorner",
    "LowFreqOrder",
    "LowFilterType",
    "MaxVal",
    "MinVal",
    "NumberSamples",
    "ProbeInfo",
}


def test_bookkeeping_keys_stated_by_hand():
    assert dpt.bookkeeping("channel") == {
        "numSets": 1,
        "setidx": [0],
        "plotopts": {"indexer": "channel"},
        "current_idx": None,
    }
    assert dpt.bookkeeping("session", n_items=3)["setidx"] == [0, 0, 0]
    assert dpt.bookkeeping("session", n_items=0)["setidx"] == []
    with pytest.raises(ValueError):
        dpt.bookkeeping("cell", n_items=-1)


def test_bookkeeping_survives_both_writers(tmp_path):
    plain = tmp_path / "plain_d41d.hkl"
    dpt.save_object(plain, {"x": np.zeros(2), **dpt.bookkeeping("cell")}, {}, [tmp_path])
    streamed = tmp_path / "streamed_d41d.hkl"
    with dpt.StreamedObject(
        streamed, "data", 4, np.float32, dpt.bookkeeping("channel"), {}, [tmp_path]
    ) as o:
        o.dataset[:] = 1
        o.commit()
    for path, level in ((plain, "cell"), (streamed, "channel")):
        obj = hickle.load(str(path))
        assert type(obj["numSets"]) is int and obj["numSets"] == 1
        assert isinstance(obj["setidx"], list) and [int(i) for i in obj["setidx"]] == [0]
        assert obj["plotopts"] == {"indexer": level}
        assert obj["current_idx"] is None


@pytest.fixture(scope="module")
def channel_objects(small_day, tmp_path_factory):
    """RPLRaw, RPLLFP and RPLHighPass of channel 1 of session01 and session02, made by the
    real steps from the generated .ns5 files."""
    from hippoflow.ripple import steps

    out = tmp_path_factory.mktemp("rplobjects")
    day = small_day / "picasso" / "20181105"
    made = {}
    for session in ("session01", "session02"):
        chan = out / session / "array01" / "channel001"
        other = out / session / "array02" / "channel033"
        raw = chan / naming.RAW_NAME
        steps.rplsplit(
            [day / session / "181105_Block1.ns5"],
            day / session / "181105_Block1.nev",
            [1, 33],
            [raw, other / naming.RAW_NAME],
            naming.RAW_ARGS,
            progress=False,
        )
        lfp = chan / dpt.hkl_name("rpllfp", naming.LFP_ARGS)
        hp = chan / dpt.hkl_name("rplhighpass", naming.HIGHPASS_ARGS)
        steps.rpllfp(raw, lfp, naming.LFP_ARGS)
        steps.rplhighpass(raw, hp, naming.HIGHPASS_ARGS, progress=False)
        made[session] = {"rplraw": raw, "rpllfp": lfp, "rplhighpass": hp}
    return made


@pytest.mark.parametrize(
    "kind,args,rate,samples",
    [
        ("rplraw", {}, 30000, 20 * 30000),
        (
            "rpllfp",
            {"ResampleRate": 1000, "LFPOrder": 8, "LowPassFrequency": [1, 150]},
            1000,
            20000,
        ),
        ("rplhighpass", {"HighOrder": 8, "HighPassFrequency": [500, 7500]}, 30000, 20 * 30000),
    ],
)
def test_channel_object_keys_types_and_shapes(channel_objects, kind, args, rate, samples):
    path = channel_objects["session01"][kind]
    obj = hickle.load(str(path))
    assert {"data", "analogInfo", "args", "dirs", "numSets", "setidx"} <= set(obj)
    assert isinstance(obj["data"], np.ndarray)
    assert obj["data"].dtype == np.float32 and obj["data"].shape == (samples,)
    assert isinstance(obj["analogInfo"], dict) and ANALOG_INFO_KEYS <= set(obj["analogInfo"])
    assert obj["analogInfo"]["SampleRate"] == rate
    assert obj["args"] == args
    assert obj["dirs"] == [str(path.parent.resolve())]
    # a channel object plots one item: setidx [0], one directory
    assert type(obj["numSets"]) is int and obj["numSets"] == 1
    assert [int(i) for i in obj["setidx"]] == [0]
    assert obj["plotopts"] == {"indexer": "channel"} and obj["current_idx"] is None


@pytest.mark.parametrize("kind", ["rplraw", "rpllfp", "rplhighpass"])
def test_channel_objects_append_over_two_sessions(channel_objects, kind):
    first = DPTLike(channel_objects["session01"][kind])
    second = DPTLike(channel_objects["session02"][kind])
    first.append(second)
    # the second object's item gets index 1 (= the first's numSets), its directory follows
    assert [int(i) for i in first.setidx] == [0, 1]
    assert first.dirs == [
        str(channel_objects[s][kind].parent.resolve()) for s in ("session01", "session02")
    ]
    # DPT's level indexer: item i belongs to dirs[setidx[i]]
    assert [first.dirs[i].split("/")[-3] for i in first.setidx] == ["session01", "session02"]
