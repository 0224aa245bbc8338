"""The completion-notice command (hippoflow.notify)."""

from __future__ import annotations

import pytest

from hippoflow.notify import notify, render


def test_no_command_does_nothing(tmp_path):
    assert notify("", "success", tmp_path / "x.log") is None
    assert notify(None, "error") is None
    assert notify("   ", "error") is None


def test_command_writes_file_with_status_and_log(tmp_path):
    target = tmp_path / "done.txt"
    log = tmp_path / "with space" / "snakemake.log"
    rc = notify(f"printf '%s|%s' {{status}} {{log}} > {target}", "success", log)
    assert rc == 0
    assert target.read_text() == f"success|{log}"


def test_environment_carries_status(tmp_path):
    target = tmp_path / "env.txt"
    assert notify(f'echo "$HIPPOFLOW_STATUS $HIPPOFLOW_LOG" > {target}', "error", "L") == 0
    assert target.read_text().split() == ["error", "L"]


def test_other_braces_untouched():
    cmd = 'aws sns publish --message \'{"state": "{status}"}\' ${HOME}'
    assert (
        render(cmd, "success", None) == 'aws sns publish --message \'{"state": "success"}\' ${HOME}'
    )


def test_quoting_prevents_injection(tmp_path):
    marker = tmp_path / "pwned"
    rc = notify("echo {log} > /dev/null", "success", f"x; touch {marker}")
    assert rc == 0
    assert not marker.exists()


def test_failing_command_reports_but_does_not_raise(capsys):
    assert notify("exit 3", "error") == 3
    assert "exited with 3" in capsys.readouterr().err


def test_bad_status_rejected():
    with pytest.raises(ValueError):
        notify("true", "done")


def test_log_list_as_snakemake_passes_it(tmp_path):
    target = tmp_path / "list.txt"
    logs = [tmp_path / "a b.log"]
    assert notify(f"printf '%s' {{log}} > {target}", "success", logs) == 0
    assert target.read_text() == str(logs[0])
    assert "{log}" not in render("x {log}", "error", [])
