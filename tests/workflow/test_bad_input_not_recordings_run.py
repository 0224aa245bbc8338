"""Files that are not recordings never block recordings, through the real snakemake command.

A generated day (2 channels, two 20 s navigation sessions and sessioneye) copied "through an
exFAT disk": every raw file has its macOS AppleDouble file ``._<name>`` beside it, and the
day's navigation EyeLink file a duplicate download ``181105 (1).asc`` of the same bytes.  The
dry run plans exactly the jobs of the clean day (no problem job); a run of the EyeLink chain
makes the day's EDFSplit and every session's EyeLink object, with one warning per folder
naming the ignored files.  A second day holds two different navigation EyeLink files: one
planning problem naming both, the navigation sessions' EyeLink chain is not planned,
sessioneye's is made.  Raw files stay byte-identical.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import digests, generate, job_counts, run_snakemake

from hippoflow import naming

D = "picasso/20181105"
APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\0" * 4000


def _dry_counts(work, root):
    proc = run_snakemake(
        work, "-n", "--quiet", "rules", config={"data_root": root, "output_root": work / "out"}
    )
    return job_counts(proc.stdout + proc.stderr), proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("notrec")
    clean = tmp / "clean" / "data"
    generate(clean, "--channels", 2, "--seconds", 20, "--sessions", 2)
    copied = tmp / "copied" / "data"
    shutil.copytree(clean, copied)
    day = copied / D
    for p in sorted(day.rglob("*")):
        if p.is_file() and p.suffix in {".nev", ".ns5", ".asc", ".txt"}:
            p.with_name("._" + p.name).write_bytes(APPLEDOUBLE)
    shutil.copy(day / "181105.asc", day / "181105 (1).asc")
    two = tmp / "two" / "data"
    shutil.copytree(clean, two)
    other = (two / D / "181105.asc").read_text().replace("MSG", "MSG ", 1)
    (two / D / "181106.asc").write_text(other)  # another recording, another size
    return tmp, clean, copied, two


def test_appledouble_files_and_duplicates_change_no_job(trees):
    tmp, clean, copied, _ = trees
    want, _ = _dry_counts(tmp / "clean", clean)
    got, text = _dry_counts(tmp / "copied", copied)
    assert "input_problem" not in got
    assert got == want
    day = copied / D
    (fixation,) = (p.name for p in day.glob("P*.asc"))
    assert (
        f"hippoflow: warning: {day}: 3 file(s) ignored: ._181105.asc (a macOS metadata file "
        f"(AppleDouble) of 181105.asc, not a recording); ._{fixation} (a macOS metadata file "
        f"(AppleDouble) of {fixation}, not a recording); 181105 (1).asc (a duplicate of "
        "181105.asc (same name with '(1)', same size))"
    ) in text
    assert (
        f"hippoflow: warning: {day / 'session01'}: 2 file(s) ignored: ._181105_Block1.nev"
    ) in text


def test_eyelink_chain_runs_with_the_junk_beside_it(trees):
    tmp, _, copied, _ = trees
    before = digests(copied)
    out = tmp / "copied" / "out"
    targets = [out / D / naming.EDFSPLIT_NAME] + [
        out / D / s / naming.EYELINK_NAME for s in ("session01", "session02", "sessioneye")
    ]
    proc = run_snakemake(
        tmp / "copied",
        "--cores",
        "2",
        "--keep-going",
        *map(str, targets),
        config={"data_root": copied, "output_root": out},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for t in targets:
        assert t.is_file(), t
    summary = (out / "hippoflow_summary.txt").read_text()
    assert f"{copied / D}: 3 file(s) ignored: ._181105.asc" in summary
    assert digests(copied) == before, "raw files (and the junk beside them) stay byte-identical"


def test_two_navigation_files_one_problem_naming_both(trees):
    tmp, _, _, two = trees
    before = digests(two)
    counts, text = _dry_counts(tmp / "two", two)
    day = two / D
    msg = (
        f"{day}: 2 navigation EyeLink files, expected one: 181105.asc, 181106.asc; the "
        "navigation sessions' EyeLink objects, raycast and gaze tables are not made (their "
        "NWB files have no eye data) (keep the day's one navigation file in the folder and "
        "move the other(s) out)"
    )
    assert f"hippoflow: planning problem (job input_problem fails): {msg}" in text
    assert counts["input_problem"] == 1
    assert "edfsplit" not in counts and "raycast" not in counts
    assert counts["eyelink"] == 1  # sessioneye's
    assert counts["nwb"] == 3
    out = tmp / "two" / "out"
    problem = out / D / ".hippoflow-problem-eye_navigation_count"
    eye = out / D / "sessioneye" / naming.EYELINK_NAME
    proc = run_snakemake(
        tmp / "two",
        "--cores",
        "2",
        "--keep-going",
        str(problem),
        str(eye),
        config={"data_root": two, "output_root": out},
        check=False,
    )
    assert proc.returncode != 0
    assert f"hippoflow: bad input: {msg}" in proc.stdout + proc.stderr
    assert eye.is_file() and not problem.exists()
    summary = (out / "hippoflow_summary.txt").read_text().splitlines()
    assert "failed: 1 job(s)" in summary
    assert f"  {msg}" in summary
    assert digests(two) == before
