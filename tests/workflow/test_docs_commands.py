"""Every command line of the README's and the docs' code blocks, run as printed.

The lines are extracted from README.md and docs/**/*.md (shell blocks; continuation lines
joined, trailing comments dropped) and run with bash in a directory laid out like a checkout
(the repository's Snakefile, rules, config, profiles, scripts, package and report linked in)
holding a small generated tree at ``demo/data`` (the default ``data_root``).  What a line may
be, and how it is run:

- ``snakemake ...``: only the values of ``data_root=`` / ``output_root=`` are replaced (by the
  generated tree and a directory of the test); a line that would compute gets ``-n`` right
  after ``snakemake``; the rest is kept exactly as printed, profiles included
  (``profiles/pcluster`` dry-runs locally: the Slurm executor plugin is installed and a dry
  run submits nothing).  A ``--report`` line runs as printed, without ``-n``, in the working
  directory of a finished run (the session's shared small-day run).  What the docs say of a
  line is checked where they say something (job counts, one channel's high-pass file, other
  LFP arguments giving another file name, a DAG picture).
- ``python -m hippoflow.<tool>`` and ``python -m`` / ``python`` lines of the project: run as
  printed (in the checkout directory).
- ``make <target>``: ``make -n <target>`` in the repository (a dry run, as for snakemake).
- ``... -m pytest ...``: run with ``--collect-only`` (it selects tests; running the suite
  inside the suite is what ``make test`` does).
- ``source .venv/bin/activate`` and ``cd``: set-up lines, not commands.
- A block whose first line is ``# needs AWS`` or ``# needs the network`` is not run.

Any other line fails ``test_every_command_is_run_or_marked``: a command the docs print must be
one the tests run.  The inline ``--config '...'`` examples of the prose are run too, as
``snakemake -n --quiet rules --config '...'``, and the ``notify_command`` form of the
cluster page (a string holding ": ") in a real run of one job.
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

PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
MARKERS = ("# needs AWS", "# needs the network")
SETUP = ("source ", "cd ")
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


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced code block of a Markdown text."""
    out, lang, body = [], None, []
    for line in text.splitlines():
        if line.startswith("```"):
            if lang is None:
                lang, body = line[3:].strip(), []
            else:
                out.append((lang, "\n".join(body) + "\n"))
                lang = None
        elif lang is not None:
            body.append(line)
    return out


def shell_blocks(text: str) -> list[str]:
    """The page's fenced shell code blocks (``bash``, ``sh`` or no language)."""
    return [body for lang, body in fenced_blocks(text) if lang in ("bash", "sh", "")]


def marked(block: str) -> bool:
    return block.lstrip().startswith(MARKERS)


def block_lines(block: str) -> list[str]:
    """The block's logical command lines: continuations joined, comments dropped."""
    logical, buf = [], ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1].strip() + " "
            continue
        logical.append(buf + line.strip())
        buf = ""
    return [x for x in map(strip_comment, logical) if x]


def doc_lines() -> list[tuple[str, str]]:
    """(page, line) of every command line in an unmarked shell block of the docs."""
    return [
        (str(page.relative_to(REPO)), line)
        for page in PAGES
        for block in shell_blocks(page.read_text())
        if not marked(block)
        for line in block_lines(block)
    ]


def kind(line: str) -> str:
    if line == "snakemake" or line.startswith("snakemake "):
        return "snakemake"
    if line.startswith(SETUP):
        return "setup"
    if line.startswith("make "):
        return "make"
    if " -m pytest" in line:
        return "pytest"
    if line.startswith("python "):
        return "python"
    return "unknown"


def inline_config_examples(text: str) -> list[str]:
    """The ``--config '...'`` examples written in the docs' prose."""
    prose = text
    for _, body in fenced_blocks(text):
        prose = prose.replace(body, "")
    return sorted(set(re.findall(r"`(--config '[^'`]*')`", prose)))


ALL_TEXT = "\n".join(page.read_text() for page in PAGES)
LINES = doc_lines()
COMMANDS = sorted({line for _, line in LINES if kind(line) == "snakemake"})
OTHERS = sorted({line for _, line in LINES if kind(line) in ("python", "make", "pytest")})
INLINE = inline_config_examples(ALL_TEXT)


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


def test_the_docs_list_their_commands():
    # the forms this test must find (a change of the docs' layout shows here)
    starts = [c.split(" --config")[0] for c in COMMANDS]
    assert "snakemake -n" in starts
    assert any("profiles/pcluster" in c and "notify_command=" in c for c in COMMANDS)
    assert any(c.startswith("snakemake --dag |") for c in COMMANDS)
    assert any("--report" in c for c in COMMANDS)
    assert any(" -f " in c for c in COMMANDS)
    assert len(COMMANDS) >= 13
    assert "--config 'behaviour={eyelink: false}'" in INLINE
    assert "--config 'lfp={LFPOrder: 6}'" in INLINE


def test_every_command_is_run_or_marked():
    unknown = [f"{page}: {line}" for page, line in LINES if kind(line) == "unknown"]
    assert not unknown, (
        "commands that no test runs: run them in tests/workflow/test_docs_commands.py or "
        f"start their block with one of {MARKERS}:\n" + "\n".join(unknown)
    )


def test_marked_blocks_need_what_they_say():
    """A block marked as needing AWS or the network holds a command that does (not a
    local command hidden from the tests)."""
    needs = re.compile(
        r"\b(aws|pcluster|curl|dandi|tmux|squeue|sinfo|pip install|git clone|mamba)\b"
    )
    for page in PAGES:
        for block in shell_blocks(page.read_text()):
            if marked(block):
                assert needs.search(block), f"{page}: marked block with no AWS/network command"


@pytest.fixture(scope="module")
def ran_checkout(small_day_run) -> tuple[Path, Path, Path]:
    """The working directory of the session's finished small-day run, laid out like a
    checkout: (work dir, data root, output root)."""
    work, outroot, cfg, _ = small_day_run
    for name in LINKED:
        if not (work / name).exists():
            (work / name).symlink_to(REPO / name)
    return work, Path(cfg["data_root"]), outroot


@pytest.mark.parametrize("command", COMMANDS)
def test_docs_command(checkout, ran_checkout, command):
    words = shlex.split(command.split("|")[0])
    if "--unlock" in words:
        # nothing to unlock in a fresh directory: Snakemake says so and exits 0
        cmd = re.sub(r"(?<=\bdata_root=)\S+", str(checkout / "demo" / "data"), command)
        assert "Unlocked working directory" in check(bash(checkout, cmd), cmd)
        return
    if "--report" in words:
        # run as printed after a finished run (the report needs the run's outputs)
        work, data, derived = ran_checkout
        cmd = re.sub(r"(?<=\bdata_root=)\S+", str(data), command)
        cmd = re.sub(r"(?<=\boutput_root=)\S+", str(derived), cmd)
        check(bash(work, cmd), cmd)
        report = work / words[words.index("--report") + 1]
        assert report.is_file() and report.stat().st_size > 10_000
        return
    data, derived = checkout / "demo" / "data", checkout / "derived"
    cmd = as_run(command, data, derived)
    text = check(bash(checkout, cmd), cmd)
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
        days = re.search(r"days=\[([\d,]+)\]", command).group(1).split(",")
        assert outputs(text, r"picasso/(\d{8})/") == set(days)
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
def test_docs_inline_config_example(checkout, example):
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
    """The cluster page's notify_command holds ': ' (``log: {log}``): as printed it reaches the
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


@pytest.mark.parametrize("command", OTHERS)
def test_docs_tool_command(checkout, command):
    """The docs' python, make and pytest lines (see the module docstring for how each runs)."""
    if kind(command) == "make":
        cmd = "make -n " + command[len("make ") :]
        text = check(bash(REPO, cmd), cmd)
        assert "No rule to make target" not in text
        return
    if kind(command) == "pytest":
        cmd = command + " --collect-only -p no:cacheprovider"
        text = check(bash(REPO, cmd), cmd)
        assert re.search(r"\d+ tests? collected|\d+/\d+ tests collected", text), text[-500:]
        return
    check(bash(checkout, command), command)


def test_rule_graph_picture_is_current(checkout):
    """The README's rule graph (docs/images/rulegraph.svg, made by `make docs`) shows the
    rules that Snakemake's own --rulegraph of the workflow has."""
    dot = check(bash(checkout, "snakemake --rulegraph"), "snakemake --rulegraph")
    rules = set(re.findall(r'label = "(\w+)"', dot))
    svg = (REPO / "docs" / "images" / "rulegraph.svg").read_text()
    shown = set(re.findall(r">(\w+)</text>", svg))
    assert rules and rules == shown, "run: make docs"


def test_every_relative_link_resolves():
    """Every relative link and image of README.md and docs/ names a file or folder of the
    repository (an offline broken-link check; web links are not followed)."""
    broken = []
    for page in PAGES:
        text = page.read_text()
        for _, body in fenced_blocks(text):
            text = text.replace(body, "")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.exists():
                broken.append(f"{page.relative_to(REPO)}: {target}")
    assert not broken, "links to nothing:\n" + "\n".join(broken)
