"""Raw-file digests taken while the split reads the .ns5, and the provenance page's use of them.

Every digest is compared with ``hashlib.sha256`` of the file's bytes read whole here, on a
generated day (``hippoflow.synth``), on NSx files of several data blocks and of one-sample
packets (our writer), and on the real NSx files of ``shared/realdata/blackrock`` (read in
place).  A raw file changed after its split (appended to, or only touched) must be flagged on
the provenance page and in its log, its old digest not shown.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import generate

from hippoflow import digests
from hippoflow.errors import InputError
from hippoflow.qc.provenance import provenance_html
from hippoflow.ripple import nsx, split, steps
from tests.conftest import REALDATA

REAL = REALDATA / "blackrock"

REAL_READABLE = ("Test_anonymized.ns3", "test_NEURALCD_raw.ns3", "test_BRSMPGRP_raw.ns3")
SESSION = ("picasso", "20181105", "session01")


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """A generated day: session01 and sessioneye, 2 channels, 3 s."""
    root = tmp_path_factory.mktemp("digest-demo") / "data"
    generate(root, "--channels", 2, "--seconds", 3, "--sessions", 1, "--eye-seconds", 2)
    return root


def split_digest(path, chunk) -> dict:
    """The record split_stream hands over after streaming every channel of ``path``."""
    header = nsx.read_nsx_header(path)
    blocks = nsx.nsx_data_blocks(header)
    got = {}
    ids = [c.electrode_id for c in header.electrodes()] or [header.channels[0].electrode_id]
    split.split_stream(header, blocks, ids, lambda *a: None, chunk=chunk, digest=got.update)
    return got


@pytest.mark.parametrize("chunk", [1 << 15, 1 << 20])
def test_split_digest_of_the_generated_ns5_is_its_sha256(demo, chunk):
    for ns5 in sorted(demo.rglob("*.ns5")):
        rec = split_digest(ns5, chunk)
        st = ns5.stat()
        assert rec == {
            "path": str(ns5),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "sha256": sha(ns5),
        }


@pytest.mark.realdata
@pytest.mark.parametrize("name", REAL_READABLE)
@pytest.mark.parametrize("chunk", [7, 1 << 15])
def test_split_digest_of_the_real_nsx_files_is_their_sha256(name, chunk):
    path = REAL / name  # read in place, never copied
    assert split_digest(path, chunk)["sha256"] == sha(path)


def test_split_digest_over_several_blocks_and_one_sample_packets(tmp_path):
    rng = np.random.default_rng(3)
    chans = [nsx.ChannelSpec(e, 0, e) for e in (1, 2, 3)]
    several = tmp_path / "blocks.ns5"
    data = [rng.integers(-900, 900, size=(n, 3)).astype(np.int16) for n in (500, 1, 777)]
    nsx.write_nsx(several, chans, [(k * 10_000, d) for k, d in enumerate(data)])
    packets = tmp_path / "packets.ns5"
    one = rng.integers(-900, 900, size=(301, 3)).astype(np.int16)
    nsx.write_nsx(packets, chans, [(k, one[k : k + 1]) for k in range(301)], version=(3, 0))
    assert len(nsx.nsx_data_blocks(nsx.read_nsx_header(several))) == 3
    assert nsx.nsx_data_blocks(nsx.read_nsx_header(packets))[0].stride
    for path in (several, packets):
        for chunk in (5, 1 << 15):
            assert split_digest(path, chunk)["sha256"] == sha(path), (path.name, chunk)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hashing_reader_is_sha256_whatever_the_seeks(tmp_path, seed):
    """Forward gaps (read by the reader itself), re-reads of hashed bytes, a tail not read."""
    rng = np.random.default_rng(seed)
    path = tmp_path / "f.bin"
    path.write_bytes(rng.integers(0, 256, size=100_003, dtype=np.uint8).tobytes())
    with open(path, "rb", buffering=0) as f:
        r = digests.HashingReader(f)
        for _ in range(40):
            pos = int(rng.integers(0, 100_003))
            n = int(rng.integers(1, 5000))
            r.seek(pos)
            buf = bytearray(n)
            got = r.readinto(buf)
            assert bytes(buf[:got]) == path.read_bytes()[pos : pos + got]
        rec = r.finish()
    assert rec["sha256"] == sha(path) and rec["size"] == 100_003


def test_a_file_changed_while_read_is_refused(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 1000)
    with open(path, "rb", buffering=0) as f:
        r = digests.HashingReader(f)
        r.readinto(bytearray(500))
        with open(path, "ab") as g:
            g.write(b"more")
        with pytest.raises(InputError, match=r"f\.bin: changed while it was read .*1000 -> 1004"):
            r.finish()


def test_rplsplit_writes_the_record_after_its_files(demo, tmp_path):
    day = demo.joinpath(*SESSION)
    ns5, nev = day / "181105_Block1.ns5", day / "181105_Block1.nev"
    outs = [tmp_path / "a" / "rplraw.hkl", tmp_path / "b" / "rplraw.hkl"]
    record = tmp_path / digests.NS5_RECORD
    returned = steps.rplsplit([str(ns5)], nev, [1, 33], outs, {}, False, record=record)
    written = json.loads(record.read_text())
    assert written == returned
    assert written == {
        "path": str(ns5),
        "size": ns5.stat().st_size,
        "mtime_ns": ns5.stat().st_mtime_ns,
        "sha256": sha(ns5),
    }
    assert record.stat().st_mtime_ns >= max(p.stat().st_mtime_ns for p in outs)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["a", "b", record.name])


# ---------------------------------------------------------------------- the provenance page
def _text(cell: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", cell))


def page_rows(page: Path) -> dict[str, tuple[str, str, str]]:
    """file -> (bytes, SHA-256 cell, how the digest was taken) of the raw-input table."""
    text = page.read_text()
    table = text[text.index("<h3>Raw inputs</h3>") :]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table)
    return {_text(f): (n, _text(d), _text(s)) for f, n, d, s in rows}


@pytest.fixture
def split_copy(demo, tmp_path):
    """session01's .ns5 and .nev copied, the copy split: (ns5, nev, record)."""
    src = demo.joinpath(*SESSION)
    raw = tmp_path / "raw"
    raw.mkdir()
    ns5, nev = raw / "181105_Block1.ns5", raw / "181105_Block1.nev"
    shutil.copy2(src / ns5.name, ns5)
    shutil.copy2(src / nev.name, nev)
    record = tmp_path / "out" / digests.NS5_RECORD
    outs = [tmp_path / "out" / f"ch{c}" / "rplraw.hkl" for c in (1, 33)]
    steps.rplsplit([str(ns5)], str(nev), [1, 33], outs, {}, False, record=record)
    return ns5, nev, record


def test_page_takes_the_ns5_digest_from_the_record_and_hashes_the_rest(split_copy, tmp_path):
    ns5, nev, record = split_copy
    page = tmp_path / "provenance.html"
    provenance_html(page, {}, [str(nev), str(ns5)], True, records=[record])
    rows = page_rows(page)
    assert rows[str(ns5)] == (
        str(ns5.stat().st_size),
        sha(ns5),
        "hashed by rplsplit while splitting (record beside the session's outputs)",
    )
    assert rows[str(nev)] == (str(nev.stat().st_size), sha(nev), "hashed by this page's job")
    assert "WARNING" not in page.read_text()


def test_page_does_not_read_a_recorded_ns5(split_copy, tmp_path, monkeypatch):
    """The record's digest is shown as it is: the page's job never opens the .ns5."""
    ns5, nev, record = split_copy
    opened = []
    real_open = open

    def watch(path, *a, **k):
        opened.append(str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr("builtins.open", watch)
    rows = provenance_html(tmp_path / "p.html", {}, [str(nev), str(ns5)], True, records=[record])
    assert str(ns5) not in opened and str(nev) in opened
    assert {r["file"]: r["source"] for r in rows} == {str(ns5): "rplsplit", str(nev): "provenance"}


@pytest.mark.parametrize("change", ["append", "touch"])
def test_a_raw_file_changed_after_its_split_is_flagged(split_copy, tmp_path, caplog, change):
    ns5, nev, record = split_copy
    old = sha(ns5)
    before = ns5.stat()
    if change == "append":
        with open(ns5, "ab") as f:
            f.write(b"\0\0")
        os.utime(ns5, ns=(before.st_atime_ns, before.st_mtime_ns))  # same mtime, new size
    else:
        os.utime(ns5, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    now = ns5.stat()
    page = tmp_path / "provenance.html"
    with caplog.at_level(logging.WARNING):
        provenance_html(page, {}, [str(nev), str(ns5)], True, records=[record])
    text = html.unescape(page.read_text())
    rows = page_rows(page)
    size, cell, how = rows[str(ns5)]
    expected = (
        f"changed after its digest was taken: it was {before.st_size} bytes with mtime_ns "
        f"{before.st_mtime_ns}, it is {now.st_size} bytes with mtime_ns {now.st_mtime_ns}"
    )
    assert cell.startswith("NOT SHOWN: " + expected), cell
    assert old not in text and sha(ns5) not in text, "no digest shown for the changed file"
    assert "WARNING: 1 raw file(s) changed after their digest was taken" in text
    assert rows[str(nev)][1] == sha(nev), "the unchanged file keeps its digest"
    assert any(expected in r.getMessage() and str(ns5) in r.getMessage() for r in caplog.records)


def test_a_removed_raw_file_is_flagged(split_copy, tmp_path):
    ns5, nev, record = split_copy
    ns5.unlink()
    rows = provenance_html(tmp_path / "p.html", {}, [str(ns5)], True, records=[record])
    assert rows[0]["sha256"] is None and "cannot be read now" in rows[0]["problem"]


def test_without_input_digests_only_sizes_are_listed(split_copy, tmp_path, monkeypatch):
    ns5, nev, record = split_copy
    monkeypatch.setattr(digests, "sha256_file", lambda *a: pytest.fail("hashed"))
    page = tmp_path / "provenance.html"
    provenance_html(page, {}, [str(nev), str(ns5)], False, records=[record])
    rows = page_rows(page)
    for p in (ns5, nev):
        assert rows[str(p)] == (
            str(p.stat().st_size),
            "(not shown: report.input_digests is false)",
            "-",
        )
    assert sha(ns5) not in page.read_text()


def test_a_broken_record_is_named(tmp_path):
    bad = tmp_path / digests.NS5_RECORD
    bad.write_text('{"path": "x"}\n')
    with pytest.raises(InputError, match=rf"{bad}: digest record without size, mtime_ns"):
        provenance_html(tmp_path / "p.html", {}, ["x"], True, records=[bad])


def test_backfill_writes_the_records_an_older_tree_lacks(demo, tmp_path):
    """session01 split before records existed (its LFP newer than its .ns5): a record equal to
    hashlib's; sessioneye's outputs older than its .ns5: none (Snakemake re-splits it)."""
    data = tmp_path / "data"
    shutil.copytree(demo, data)
    out = tmp_path / "out"
    day = ("picasso", "20181105")
    ns5 = {s: next(data.joinpath(*day, s).glob("*.ns5")) for s in ("session01", "sessioneye")}
    for s, path in ns5.items():
        lfp = out.joinpath(*day, s, "array01", "channel001", "rpllfp_6eca.hkl")
        lfp.parent.mkdir(parents=True)
        lfp.write_bytes(b"made before")
        t = path.stat().st_mtime_ns + (10**9 if s == "session01" else -(10**9))
        os.utime(lfp, ns=(t, t))
    written = digests.backfill(data, out, log=lambda m: None)
    first = out.joinpath(*day, "session01", digests.NS5_RECORD)
    assert written == [first]
    st = ns5["session01"].stat()
    assert json.loads(first.read_text()) == {
        "path": str(ns5["session01"]),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "sha256": sha(ns5["session01"]),
    }
    assert not out.joinpath(*day, "sessioneye", digests.NS5_RECORD).exists()
    assert digests.backfill(data, out, log=lambda m: None) == [], "an existing record is kept"
