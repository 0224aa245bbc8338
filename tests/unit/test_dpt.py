import hickle
import numpy as np
import pytest

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
