"""`snakemake --report` on a generated day, opened in headless Chromium.

Chromium is Debian's package; the fixture installs it (as root) when it is missing.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import generate, run_snakemake

DAY = ("picasso", "20181105")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = shutil.which("chromium")
    if not exe and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
            check=True,
            env=env,
            timeout=1200,
        )
        exe = shutil.which("chromium")
    if not exe:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing and could not be installed (not root?)")
        pytest.skip("chromium missing (install Debian's chromium, as root)")
    return exe


def run_chromium(exe, tmp: Path, *args, timeout=180) -> subprocess.CompletedProcess:
    profile = tmp / f"profile{len(list(tmp.glob('profile*')))}"
    cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    work = tmp_path_factory.mktemp("report")
    data = work / "data"
    generate(data, "--channels", 2, "--seconds", 15, "--sessions", 1, "--units", 2)
    outroot = work / "derived"
    cfg = {"data_root": data, "output_root": outroot}
    day = outroot.joinpath(*DAY)
    pngs = [
        day / s / f
        for s in ("session01", "sessioneye")
        for f in ("qc_trials.png", "qc_lfp_spectrum.png")
    ]
    pngs += [
        day / "sort" / f"array{a}" / f"channel{c}" / "qc_sort.png"
        for a, c in (("01", "001"), ("02", "033"))
    ]
    targets = [str(p) for p in pngs] + [
        str(day / "sort" / "metrics.html"),
        str(outroot / "provenance.html"),
    ]
    run_snakemake(work, "--cores", "2", *targets, config=cfg)
    run_snakemake(work, "--report", str(work / "report.html"), *targets, config=cfg)
    return work, data, pngs


def embedded(html: str, mime: str) -> dict[str, bytes]:
    """Files embedded in the report as data URIs: {filename: bytes}."""
    out = {}
    pattern = rf"data:{re.escape(mime)};charset=utf8;filename=([^;]+);base64,([A-Za-z0-9+/=]+)"
    for m in re.finditer(pattern, html):
        out.setdefault(m.group(1), [])
        out[m.group(1)].append(base64.b64decode(m.group(2)))
    return out


def test_report_embeds_every_qc_picture_and_provenance(report):
    work, data, pngs = report
    html = (work / "report.html").read_text()
    images = embedded(html, "image/png")
    for p in pngs:
        assert p.read_bytes() in images.get(p.name, []), f"{p} not in the report"
    pages = b"".join(b"".join(v) for v in embedded(html, "text/html").values()).decode()
    for raw in sorted(data.rglob("*.ns5")) + sorted(data.rglob("*.nev")):
        assert hashlib.sha256(raw.read_bytes()).hexdigest() in pages, raw
    for pkg in ("spikeinterface", "mountainsort5", "snakemake"):
        assert pkg in pages
    assert "detect_threshold" in pages  # the sorting parameters
    assert "isi_violations_ratio" in pages or "ISI viol" in pages  # the metrics table


def test_provenance_page_digests_are_hashlibs_and_the_ns5_is_not_read_again(report):
    """Every raw file's row holds its hashlib SHA-256; each .ns5's digest is the one its split
    took (the record beside the session's outputs), and the provenance job's declared inputs
    hold no .ns5 and no split file (it reads the records and the small .nev files only)."""
    work, data, _ = report
    outroot = work / "derived"
    page = (outroot / "provenance.html").read_text()
    table = page[page.index("<h3>Raw inputs</h3>") :]
    cells = re.findall(r"<tr><td>(.*?)</td><td>(\d+)</td><td>(.*?)</td><td>(.*?)</td></tr>", table)
    rows = {html.unescape(f): (int(n), d, html.unescape(how)) for f, n, d, how in cells}
    raws = sorted(data.rglob("*.ns5")) + sorted(data.rglob("*.nev"))
    assert sorted(rows) == sorted(map(str, raws))
    for raw in raws:
        size, digest, how = rows[str(raw)]
        assert (size, digest) == (raw.stat().st_size, hashlib.sha256(raw.read_bytes()).hexdigest())
        if raw.suffix == ".ns5":
            assert how.startswith("hashed by rplsplit"), (raw, how)
            record = outroot / raw.parent.relative_to(data) / "hippoflow_digest_ns5.json"
            assert json.loads(record.read_text())["sha256"] == digest
        else:
            assert how == "hashed by this page's job", (raw, how)
    logs = sorted((work / ".snakemake" / "log").glob("*.snakemake.log"))
    text = "".join(p.read_text() for p in logs)
    block = text[text.index("rule provenance:") :]
    inputs = block.split("input: ", 1)[1].splitlines()[0].split(", ")
    assert inputs and all(p.endswith((".nev", "hippoflow_digest_ns5.json")) for p in inputs), inputs


def test_report_renders_in_chromium(report, chromium):
    work, _, _ = report
    proc = run_chromium(
        chromium, work, "--virtual-time-budget=10000", "--dump-dom", (work / "report.html").as_uri()
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    app = dom[dom.index('<div id="app">') :]
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", app, flags=re.S))
    # the React app rendered its menu (the raw file's #app div is empty)
    for word in ("Results", "Sorting", "Sessions", "Provenance", "MountainSort5"):
        assert word in text, f"{word!r} not rendered"


def test_qc_picture_displayed_in_chromium(report, chromium):
    """Open the Sorting category and one sort summary as a user's click would, then look."""
    work, _, pngs = report
    qc_sort = next(p for p in pngs if p.name == "qc_sort.png")
    view = work / "view.html"
    script = (
        "<script>window.addEventListener('load', () => setTimeout(() => {"
        f"const p = Object.keys(results).find(k => k.endsWith({str(qc_sort)!r}));"
        "app.showCategory('Sorting');"
        "app.setView({content: 'img', contentPath: results[p].data_uri, resultPath: p});"
        "}, 200));</script>"
    )
    # insert before the document's last </body> (the page's scripts hold the string too)
    head, end, tail = (work / "report.html").read_text().rpartition("</body>")
    view.write_text(head + script + end + tail)
    proc = run_chromium(chromium, work, "--virtual-time-budget=10000", "--dump-dom", view.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    srcs = re.findall(r'<img[^>]+src="(data:image/png[^"]+)"', proc.stdout)
    shown = [base64.b64decode(s.split("base64,", 1)[1]) for s in srcs]
    assert qc_sort.read_bytes() in shown, "the sort summary is not displayed"
    assert "qc_sort.png" in re.sub(r"<script.*?</script>", "", proc.stdout, flags=re.S)
    shot = work / "shot.png"
    proc = run_chromium(
        chromium,
        work,
        "--virtual-time-budget=10000",
        "--window-size=1400,1000",
        f"--screenshot={shot}",
        view.as_uri(),
    )
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] >= 900 and pixels.shape[1] >= 1300
    assert np.unique(pixels.reshape(-1, pixels.shape[-1])[::97], axis=0).shape[0] > 50
