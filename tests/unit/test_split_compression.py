"""Compressed split files (split_compression) hold the same values as PyHipp's uncompressed
layout, read by plain h5py and by hickle, and equal neo's reading of the .ns5."""

from __future__ import annotations

import warnings

import h5py
import hickle
import neo.rawio
import numpy as np
import pytest

from hippoflow.ripple import split
from hippoflow.ripple.steps import rplsplit
from hippoflow.synth import day as gen

MODES = ("none", "gzip", "scaleoffset")


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    root = tmp_path_factory.mktemp("splitz")
    opts = gen.Options(out=root / "data", channels=2, seconds=10.0, eye_seconds=5.0, seed=5)
    (day,) = gen.generate(opts, log=lambda *_: None)
    session = day / "session01"
    ns5 = sorted(session.glob("*.ns5"))
    nev = sorted(session.glob("*.nev"))[0]
    ids = gen.electrode_ids(2)
    out = {}
    for mode in MODES:
        paths = [root / mode / f"channel{e:03d}" / "rplraw_d41d.hkl" for e in ids]
        rplsplit(ns5, nev, ids, paths, {}, progress=False, compression=mode)
        out[mode] = paths
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = neo.rawio.BlackrockRawIO(filename=str(ns5[0].with_suffix("")), nsx_to_load=5)
        r.parse_header()
        raw = r.get_analogsignal_chunk(0, 0, None, None, channel_indexes=[0, 1])
        neo_uv = r.rescale_signal_raw_to_float(raw, dtype="float32", channel_indexes=[0, 1])
    return out, neo_uv


def test_every_mode_reads_back_the_same_values_with_h5py_and_hickle(splits):
    out, neo_uv = splits
    for k in range(2):
        plain = hickle.load(str(out["none"][k]))
        np.testing.assert_array_equal(plain["data"], neo_uv[:, k])
        for mode in ("gzip", "scaleoffset"):
            obj = hickle.load(str(out[mode][k]))
            assert obj["data"].dtype == np.float32
            # bit for bit, not just close
            np.testing.assert_array_equal(obj["data"].view(np.uint32), neo_uv[:, k].view(np.uint32))
            assert obj["analogInfo"] == plain["analogInfo"]
            with h5py.File(out[mode][k], "r") as f:
                d = f['data/"data"']
                np.testing.assert_array_equal(d[:], plain["data"])
                if mode == "gzip":
                    assert d.compression == "gzip" and d.shuffle
                else:
                    assert d.scaleoffset == 2  # Ripple's 0.25 uV step, on the 10^-2 grid


def test_compressed_files_are_smaller(splits):
    out, _ = splits
    size = {m: sum(p.stat().st_size for p in out[m]) for m in MODES}
    # uncompressed: 4 bytes a sample; scale-offset stores the 16-bit range in <= 16 bits
    assert size["gzip"] < 0.8 * size["none"], size
    assert size["scaleoffset"] < 0.6 * size["none"], size


@pytest.mark.parametrize(
    ("gain", "offset", "digits"),
    [(0.25, 0.0, 2), (0.5, 0.0, 1), (1.0, 0.0, 0), (0.1, 0.0, None), (0.25, 3.0, None)],
)
def test_decimal_grid(gain, offset, digits):
    assert split.decimal_grid(gain, offset) == digits


def test_scaleoffset_falls_back_to_gzip_off_the_grid():
    opts, how = split.split_filters("scaleoffset", [0.25, 0.1], [0.0, 0.0])
    assert opts == split.GZIP and "not on a decimal grid" in how
    with pytest.raises(ValueError, match="split_compression"):
        split.split_filters("lz4", [0.25], [0.0])
