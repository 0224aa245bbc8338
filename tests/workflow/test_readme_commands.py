"""Every ``snakemake ...`` command line of the README's code blocks, run as printed.

The lines are extracted from README.md itself (continuation lines joined, trailing comments
dropped) and run with bash in a directory laid out like a checkout (the repository's
Snakefile, rules, config, profiles, scripts, package and report linked in) holding a small
generated tree at ``demo/data`` (the default ``data_root``).  Only the values of
``data_root=`` / ``output_root=`` are replaced (by the generated tree and a directory of the
test); a line that would compute gets ``-n`` right after ``snakemake``; the rest is kept
exactly as printed, profiles included (``profiles/pcluster`` dry-runs locally: the Slurm
executor plugin is installed and a dry-run submits nothing).  Each must exit 0, and what the
README says of it is checked where it says something (job counts printed, one channel's
high-pass file, other LFP arguments giving another file name, a DAG picture).

The inline ``--config '...'`` examples of the README's prose are run too, as
``snakemake -n --quiet rules --config '...'``, and the ``notify_command`` form of the
ParallelCluster section (a string holding ": ") in a real run of one job.

Not run: ``snakemake --profile profiles/local --config data_root=... --report report.html``
(prose, not a code block; it needs a finished run: on an unrun tree Snakemake fails with
"marked for report but does not exist", and tests/workflow/test_report.py covers the
report), ``snakemake --unlock`` (prose; nothing to unlock).  The ``pcluster``, ``aws``,
``tmux``, ``squeue``, ``sinfo`` lines are not snakemake lines (they need AWS or a cluster).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, generate, job_counts

README = REPO / "README.md"
LINKED = ("Snakefile", "rules", "config", "profiles", "scripts", "hippoflow", "envs", "report")
COMPUTING_FLAGS = {"-n", "--dry-run", "--dryrun", "--dag", "--rulegraph", "--version"}


def strip_comment(line: str) -> str:
    """The line without a trailing ``# comment`` (a # outside quotes after a blank)."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def readme_commands(text: str) -> list[str]:
    """Every command line starting with ``snakemake`` in the README's fenced code blocks."""
    out = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M):
        logical, buf = [], ""
        for line in block.splitlines():
            if line.rstrip().endswith("\\"):
                buf += line.rstrip()[:-1].strip() + " "
                continue
            logical.append(buf + line.strip())
            buf = ""
        for line in map(strip_comment, logical):
            if line == "snakemake" or line.startswith("snakemake "):
                out.append(line)
    return out


def inline_config_examples(text: str) -> list[str]:
    """The ``--config '...'`` examples written in the README's prose."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return sorted(set(re.findall(r"`(--config '[^'`]*')`", prose)))


COMMANDS = readme_commands(README.read_text())
INLINE = inline_config_examples(README.read_text())


def as_run(command: str, data: Path, derived: Path) -> str:
    """The README line with data_root/output_root pointed at the test's directories and,
    if it would compute, ``-n`` right after ``snakemake``."""
    cmd = re.sub(r"(?<=\bdata_root=)\S+", str(data), command)
    cmd = re.sub(r"(?<=\boutput_root=)\S+", str(derived), cmd)
    words = set(shlex.split(cmd.split("|")[0]))
    if not words & COMPUTING_FLAGS:
        cmd = "snakemake -n" + cmd[len("snakemake") :]
    return cmd


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("readme")
    for name in LINKED:
        (root / name).symlink_to(REPO / name)
    # two days (the README selects 20181105 and 20181106), 8 channels (1, 2, 33, ... : the
    # README's channel033 in array02), header-only .ns5 files (planning reads only headers)
    generate(
        root / "demo" / "data",
        "--channels",
        8,
        "--seconds",
        40,
        "--sessions",
        2,
        "--n-days",
        2,
        "--header-only",
    )
    return root


def bash(cwd: Path, cmd: str, timeout=600) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", cmd],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def check(proc, cmd):
    assert proc.returncode == 0, (
        f"{cmd}\nexit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    )
    return proc.stdout + proc.stderr


def outputs(text: str, pattern: str) -> set[str]:
    return set(re.findall(pattern, text))


def lfp_names(text: str) -> set[str]:
    return outputs(text, r"rpllfp_[0-9a-f]{4}\.hkl")


def test_the_readme_lists_its_commands():
    # the forms this test must find (a change of the README's layout shows here)
    starts = [c.split(" --config")[0] for c in COMMANDS]
    assert "snakemake -n" in starts and "snakemake --version" in starts
    assert any("profiles/pcluster" in c and "notify_command=" in c for c in COMMANDS)
    assert any(c.startswith("snakemake --dag |") for c in COMMANDS)
    assert len(COMMANDS) >= 13
    assert "--config 'behaviour={eyelink: false}'" in INLINE
    assert "--config 'lfp={LFPOrder: 6}'" in INLINE


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command(checkout, command):
    data, derived = checkout / "demo" / "data", checkout / "derived"
    cmd = as_run(command, data, derived)
    text = check(bash(checkout, cmd), cmd)
    words = shlex.split(command.split("|")[0])
    if "--version" in words:
        assert text.strip() == "9.27.1"  # the version the README names
        return
    if "--dag" in words or "--rulegraph" in words:
        svg = checkout / shlex.split(command.split(">")[-1])[0]
        assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
        return
    assert "This was a dry-run" in text
    counts = job_counts(text)
    if "--quiet" in words:
        assert counts["total"] > 0  # "just the job counts per rule" / "prints the job counts"
    if "-f" in words:
        # one channel's high-pass file (and, in a fresh tree, the split it needs)
        target = words[words.index("-f") + 1]
        assert counts == {"rplsplit": 1, "rplhighpass": 1, "total": 2}
        assert target in text
    if "output_root=" in command and "--quiet" not in words:
        # every output goes under output_root, none into the raw tree
        assert f"output: {derived}/" in text and f"output: {data}/" not in text
    if "channels=[1,2,33]" in command:
        assert outputs(text, r"channel(\d{3})/rpllfp_") == {"001", "002", "033"}
        assert outputs(text, r"picasso/(\d{8})/") == {"20181105", "20181106"}
    if "lfp={" in command:
        # other LFP arguments, another DPT hash: the one a config file with them gives
        names = lfp_names(text)
        assert names == lfp_names(config_file_run(checkout, "lfp: {LFPOrder: 6}"))
        assert names and names != {"rpllfp_6eca.hkl"}


def config_file_run(checkout: Path, yaml_text: str) -> str:
    path = checkout / "override.yaml"
    path.write_text(yaml_text + "\n")
    cmd = f"snakemake -n --configfile {path}"
    return check(bash(checkout, cmd), cmd)


@pytest.mark.parametrize("example", INLINE)
def test_readme_inline_config_example(checkout, example):
    cmd = f"snakemake -n --quiet rules {example}"
    counts = job_counts(check(bash(checkout, cmd), cmd))
    plain = job_counts(check(bash(checkout, "snakemake -n --quiet rules"), "snakemake -n"))
    if "eyelink: false" in example:
        # Unity only: no EyeLink object, no day split, no raycast; everything else the same
        eye_rules = {"edfsplit", "eyelink", "align_eyelink", "raycast"}
        assert not eye_rules & set(counts)
        assert {k: v for k, v in plain.items() if k not in eye_rules | {"total"}} == {
            k: v for k, v in counts.items() if k != "total"
        }
    if "lfp={" in example:
        # a section given in part keeps the rest of its defaults: the same file names as the
        # full section in a config file
        text = check(bash(checkout, f"snakemake -n {example}"), example)
        full = "lfp: {ResampleRate: 1000, LFPOrder: 6, LowPassFrequency: [1, 150]}"
        assert lfp_names(text) == lfp_names(config_file_run(checkout, full))
        assert counts == plain


def test_notify_command_form_reaches_the_hook(checkout):
    """The README's notify_command holds ': ' (``log: {log}``): as printed it reaches the
    completion hook as the string given.  `echo` stands in for `aws sns publish`."""
    notice = checkout / "notice.txt"
    out = checkout / "notify_out"
    target = out / "picasso" / "20181105" / "session01" / "rplparallel_d41d.hkl"
    # the target before --config: --config takes every following word that is not an option
    command = (
        f"snakemake --cores 1 {target} --config output_root={out} "
        f"notify_command='echo \"hippoflow {{status}}; log: {{log}}\" > {notice}'"
    )
    check(bash(checkout, command), command)
    assert target.is_file()
    text = notice.read_text().strip()
    assert text.startswith("hippoflow success; log: ") and text.endswith(".snakemake.log")
