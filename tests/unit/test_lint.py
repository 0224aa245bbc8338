"""The project's own linters are part of the test suite, so CI enforces them."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # more than ~10 s: left out of make test-fast

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "cmd",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["snakefmt", "--check", "Snakefile", "rules"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_linter_clean(cmd):
    proc = subprocess.run([str(BIN / cmd[0]), *cmd[1:]], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_snakemake_lint_clean(tmp_path):
    from hippoflow.synth.day import main as generate

    generate(
        ["--out", str(tmp_path / "data"), "--channels", "2", "--seconds", "20", "--header-only"]
    )
    proc = subprocess.run(
        [str(BIN / "snakemake"), "--lint", "--config", f"data_root={tmp_path / 'data'}"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Congratulations" in proc.stdout + proc.stderr
