"""A config the schema accepts but that cannot work is refused when the run starts, with the
key named, before any job runs (the real snakemake command on the demo-sized small day)."""

from __future__ import annotations

import pytest
from conftest import digests, run_snakemake


@pytest.mark.parametrize(
    "item, message",
    [
        (
            "scratch_dir={afile}",
            "config key 'scratch_dir': {afile} is not a directory (it is a file)",
        ),
        (
            "intermediates={{node_local_dir: {afile}}}",
            "config key 'intermediates.node_local_dir': {afile} is not a directory (it is a file)",
        ),
        ("nwb={{age: P7 years}}", "config key 'nwb.age': 'P7 years' is not an ISO 8601 duration"),
    ],
)
def test_bad_config_stops_before_any_job(small_day, tmp_path, item, message):
    afile = tmp_path / "afile"
    afile.write_text("not a directory")
    before = digests(small_day)
    out = tmp_path / "out"
    key, _, value = item.format(afile=afile).partition("=")
    proc = run_snakemake(
        tmp_path,
        "--cores",
        "1",
        config={"data_root": small_day, "output_root": out, key: value},
        check=False,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "hippoflow: bad config: " + message.format(afile=afile) in text
    assert "Traceback" not in text
    assert not out.exists(), "no job ran"
    assert afile.read_text() == "not a directory"
    assert digests(small_day) == before
