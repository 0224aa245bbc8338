"""rplsplit on a >= 2 GB .ns5: vs `cp` (the I/O floor) and a PyHipp-style split."""

from __future__ import annotations

import os
import shutil
import sys

import numpy as np

from benchmarks._measure import WORK, measure, row
from hippoflow.ripple import nsx

CHANNELS = 128
SIZE_GB = 2.1


def make_ns5(path, size_gb=SIZE_GB, channels=CHANNELS, seed=0):
    """A 128-channel 30 kHz .ns5 of about size_gb GB (random content, written in chunks)."""
    n = int(size_gb * 1e9 / (2 * channels))
    specs = [
        nsx.ChannelSpec(e, (e - 1) // 32 + 1, (e - 1) % 32 + 1) for e in range(1, channels + 1)
    ]
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        f.write(nsx.nsx_header_bytes(specs))
        f.write(nsx.nsx_block_header(0, n))
        step = 300_000
        for s in range(0, n, step):
            m = min(step, n - s)
            f.write(rng.integers(-2000, 2000, size=(m, channels), dtype="<i2").tobytes())
    return n


OURS = """
import sys, logging
from hippoflow.ripple.steps import rplsplit
ns5, out = sys.argv[1], sys.argv[2]
ids = range(1, {channels} + 1)
outs = [f"{{out}}/array{{(e - 1) // 32 + 1:02d}}/channel{{e:03d}}/rplraw_d41d.hkl" for e in ids]
rplsplit([ns5], None, ids, outs, {{}}, progress=False)
"""

PYHIPP = """
import sys, os, warnings
import hickle, numpy as np, neo.rawio
warnings.simplefilter("ignore")
ns5, out = sys.argv[1], sys.argv[2]
r = neo.rawio.BlackrockRawIO(filename=ns5, nsx_to_load=5)
r.parse_header()
chans = r.header["signal_channels"]
for start in range(0, len(chans), 32):  # PyHipp loads 32 channels at a time
    idx = list(range(start, min(start + 32, len(chans))))
    raw = r.get_analogsignal_chunk(0, 0, None, None, stream_index=0, channel_indexes=idx)
    data = r.rescale_signal_raw_to_float(raw, dtype="float64", stream_index=0, channel_indexes=idx)
    for j, i in enumerate(idx):
        e = int(chans["id"][i])
        d = f"{out}/array{(e - 1) // 32 + 1:02d}/channel{e:03d}"
        os.makedirs(d, exist_ok=True)
        hickle.dump({"data": data[:, j].astype(np.float32), "analogInfo": {}}, f"{d}/rplraw_d41d.hkl", mode="w")
    del raw, data
"""


def run(size_gb: float = SIZE_GB) -> list[dict]:
    work = WORK / "split"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ns5 = work / "big.ns5"
    make_ns5(ns5, size_gb)
    size = ns5.stat().st_size
    try:
        cp_s, _ = measure(["cp", str(ns5), str(work / "copy.ns5")])
        os.remove(work / "copy.ns5")
        ours_s, ours_mb = measure(
            [sys.executable, "-c", OURS.format(channels=CHANNELS), str(ns5), str(work / "ours")]
        )
        shutil.rmtree(work / "ours")
        old_s, old_mb = measure([sys.executable, "-c", PYHIPP, str(ns5), str(work / "pyhipp")])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    gb = f"{size / 1e9:.2f} GB, {CHANNELS} ch"
    return [
        row("split: cp of the .ns5 (floor)", cp_s, "s", size=gb),
        row(
            "split: rplsplit wall / cp",
            ours_s,
            "s",
            baseline="cp",
            ratio=ours_s / cp_s,
            target="<= 3x",
            ok=ours_s / cp_s <= 3,
        ),
        row(
            "split: PyHipp-style (neo, 32 ch at a time)",
            old_s,
            "s",
            baseline="rplsplit",
            ratio=old_s / ours_s,
        ),
        row("split: rplsplit peak RSS", ours_mb, "MB", target="<= 1024 MB", ok=ours_mb <= 1024),
        row(
            "split: PyHipp-style peak RSS",
            old_mb,
            "MB",
            baseline="rplsplit",
            ratio=old_mb / ours_mb,
        ),
    ]
