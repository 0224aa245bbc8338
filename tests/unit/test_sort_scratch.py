"""The sort's temporary copies of the day-channel go to node-local scratch (``scratch_dir``),
never beside its outputs: a real MountainSort5 run is watched while it runs."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from hippoflow import dpt
from hippoflow.scratch import scratch_root
from hippoflow.sorting.steps import sort

pytestmark = pytest.mark.slow  # more than ~10 s: left out of make test-fast

FS = 30000


def write_highpass(path: Path, seconds: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(seconds * FS)
    x = 8 * rng.standard_normal(n)
    shape = -120 * np.exp(-0.5 * ((np.arange(60) - 20) / 4) ** 2)
    for t in rng.choice(np.arange(100, n - 100), 150, replace=False):
        x[t : t + 60] += shape
    b, a = signal.butter(4, [500 / (FS / 2), 7500 / (FS / 2)], "bandpass")
    y = signal.filtfilt(b, a, x).astype(np.float32)
    dpt.save_object(path, {"data": y, "analogInfo": {"SampleRate": float(FS)}}, {}, [path.parent])


class Watcher(threading.Thread):
    """Records every path that exists under ``roots`` while it runs (every 20 ms)."""

    def __init__(self, roots):
        super().__init__(daemon=True)
        self.roots = [Path(r) for r in roots]
        self.seen: set[Path] = set()
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            for r in self.roots:
                self.seen.update(r.rglob("*"))
            time.sleep(0.02)


def test_sort_writes_its_copies_to_scratch_not_beside_outputs(tmp_path):
    data = tmp_path / "derived" / "picasso" / "20181105"
    hp = []
    for k, session in enumerate(("session01", "sessioneye")):
        p = data / session / "array01" / "channel001" / "rplhighpass_b59f.hkl"
        write_highpass(p, 4.0, k)
        hp.append(p)
    out = data / "sort" / "array01" / "channel001" / "mountainsort_abcd.hkl"
    out.parent.mkdir(parents=True)
    scratch = tmp_path / "node-local"
    before = set(tmp_path.rglob("*"))
    watcher = Watcher([tmp_path])
    watcher.start()
    try:
        sort(hp, ["session01", "sessioneye"], {}, out, scratch_dir=scratch)
    finally:
        watcher.stop.set()
        watcher.join()
    assert out.exists()
    beside = {p for p in watcher.seen if scratch not in p.parents and p != scratch} - before
    # beside the outputs: only the output and its own atomic temporary name (the object itself)
    assert {
        p for p in beside if p != out and not p.name.startswith(".mountainsort_abcd.tmp")
    } == set()
    used = {p.name for p in watcher.seen if scratch in p.parents}
    assert "concat.bin" in used and any(n.startswith(".sort-") for n in used), used
    assert list(scratch.iterdir()) == []  # removed after the sort


def test_scratch_root_expands_variables_and_defaults_to_tmpdir(tmp_path, monkeypatch):
    monkeypatch.setenv("NODE_SCRATCH", str(tmp_path / "nvme"))
    assert scratch_root("$NODE_SCRATCH/hippoflow") == tmp_path / "nvme" / "hippoflow"
    assert (tmp_path / "nvme" / "hippoflow").is_dir()
    import tempfile

    assert scratch_root(None) == Path(tempfile.gettempdir())
