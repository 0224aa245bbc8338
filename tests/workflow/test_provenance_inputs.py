"""What the provenance job reads, from the dry run of the node-local profile (real snakemake).

The page's .ns5 digests come from the records the split writes while reading each .ns5
(hippoflow/digests.py): the provenance job must declare those records (on the output tree, not
node-local) and the small .nev files, never an .ns5, a split or high-pass file or anything
under the node-local directory; with ``report.input_digests: false`` it declares nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO, generate, run_snakemake

JOB = re.compile(r"^\s*(?:local)?rule (\w+):\n((?:^\s+\w+: .*\n)+)", re.MULTILINE)


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("provinputs") / "data"
    generate(root, "--channels", 2, "--sessions", 2, "--header-only")
    return root


def jobs(text: str) -> list[dict]:
    """rule, input and output lists of each job block of a dry run."""
    found = []
    for m in JOB.finditer(text):
        job = {"rule": m.group(1), "input": [], "output": []}
        for line in m.group(2).splitlines():
            key, _, val = line.strip().partition(": ")
            if key in ("input", "output"):
                job[key] = val.split(", ")
        found.append(job)
    return found


def dry_nodelocal(day, tmp_path, *config):
    node, out = tmp_path / "node", tmp_path / "out"
    proc = run_snakemake(
        tmp_path,
        "-n",
        "--profile",
        str(REPO / "profiles" / "pcluster-nodelocal"),
        "--config",
        f"data_root={day}",
        f"output_root={out}",
        f"intermediates={{node_local_dir: {node}}}",
        *config,
    )
    return node, out, jobs(proc.stdout + proc.stderr)


def test_nodelocal_provenance_reads_the_split_records_and_the_nev_only(day, tmp_path):
    node, out, planned = dry_nodelocal(day, tmp_path)
    (prov,) = [j for j in planned if j["rule"] == "provenance"]
    ns5 = sorted(day.rglob("*.ns5"))
    records = sorted(
        str(out / p.parent.relative_to(day) / "hippoflow_digest_ns5.json") for p in ns5
    )
    nev = sorted(str(p) for p in day.rglob("*.nev"))
    assert sorted(prov["input"]) == sorted(records + nev)
    # each record is an rplsplit output on the output tree, beside its nodelocal split files
    made = {o for j in planned if j["rule"].startswith("rplsplit") for o in j["output"]}
    assert set(records) <= made
    assert any(o.startswith(str(node)) and o.endswith("(nodelocal)") for o in made)


def test_nodelocal_provenance_without_digests_reads_nothing(day, tmp_path):
    _, _, planned = dry_nodelocal(day, tmp_path, "report={input_digests: false}")
    (prov,) = [j for j in planned if j["rule"] == "provenance"]
    assert prov["input"] == []
