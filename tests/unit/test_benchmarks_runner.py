"""python -m benchmarks: a failed benchmark shows no rows of an earlier run as if measured now."""

from __future__ import annotations

import json
import sys
import types

from conftest import REPO

sys.path.insert(0, str(REPO))
import benchmarks.__main__ as runner  # noqa: E402


def _fake(monkeypatch, run) -> None:
    real = runner.importlib.import_module

    def import_module(name):
        return types.SimpleNamespace(run=run) if name == "benchmarks.bench_split" else real(name)

    monkeypatch.setattr(runner.importlib, "import_module", import_module)


def _earlier(path) -> None:
    row = {"name": "split: earlier row", "value": 1.0, "unit": "s"}
    path.write_text(json.dumps({"benchmarks": {"split": {"when": "then", "rows": [row]}}}))


def test_failed_benchmark_prints_no_earlier_rows_and_marks_them(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results.json"
    _earlier(results)
    monkeypatch.setattr(runner, "RESULTS", results)

    def broken():
        raise RuntimeError("disk full")

    _fake(monkeypatch, broken)
    assert runner.main(["split"]) == 1
    out = capsys.readouterr()
    assert "earlier row" not in out.out
    assert "FAILED" in out.out and "split" in out.out and "disk full" in out.err
    kept = json.loads(results.read_text())["benchmarks"]["split"]
    assert kept["rows"][0]["name"] == "split: earlier row" and "failed" in kept["stale"]


def test_a_new_run_replaces_the_earlier_rows(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results.json"
    _earlier(results)
    monkeypatch.setattr(runner, "RESULTS", results)
    _fake(monkeypatch, lambda: [{"name": "split: new row", "value": 2.0, "unit": "s"}])
    assert runner.main(["split"]) == 0
    out = capsys.readouterr().out
    assert "new row" in out and "earlier row" not in out
    kept = json.loads(results.read_text())["benchmarks"]["split"]
    assert [r["name"] for r in kept["rows"]] == ["split: new row"] and "stale" not in kept
