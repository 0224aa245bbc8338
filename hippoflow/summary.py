"""The run summary written at the end of every run (Snakefile ``onsuccess``/``onerror``):
what was produced, what failed, what was not run, and what was skipped and why (planning
problems and warnings, and the warnings the run's jobs wrote to their logs).

Inputs: Snakemake's log of the run (``.snakemake/log/<time>.snakemake.log``: the jobs it
started, each with its rule, outputs, log and job id; which finished and which failed), the
job logs it names (lines ``<asctime> WARNING <file>: <cause>`` written by
:func:`hippoflow.logs.setup`), and the plan's problems and warnings. Outputs: the summary as
text, logged by the workflow and written to ``hippoflow_summary.txt`` in the output root
(the provenance page points to it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from hippoflow.atomic import write_text

SUMMARY_NAME = "hippoflow_summary.txt"
# a job log's warning line, as hippoflow.logs.setup formats it
WARNING_LINE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} WARNING (.+)$")
_JOB_START = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
_FIELD = re.compile(r"^    (input|output|log|jobid): (.*)$")
_FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)")
_ERROR = re.compile(r"^Error in rule (\w+):$")
_BAD_INPUT = re.compile(r" ERROR bad input: (.+)$")
_UNEXPECTED = re.compile(r" ERROR unexpected error \((\w+)\)")
_ERROR_LINE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} ERROR (.+)$")
# the last line of a Python traceback: "FileExistsError: [Errno 17] File exists: '/x'"
_EXCEPTION_LINE = re.compile(r"^((?:\w+\.)*\w*(?:Error|Exception|Exit|Interrupt)\b.*)$")
_LOG_HINT = " (check log file(s) for error details)"


@dataclass
class Job:
    rule: str
    jobid: int
    outputs: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)


@dataclass
class RunLog:
    """What Snakemake's log of one run says about its jobs."""

    planned: dict[str, int]  # rule -> jobs to run (the first 'Job stats' table)
    started: dict[int, Job]
    finished: set[int]
    failed: set[int]
    # jobs run inside a group job (one Slurm job): Snakemake's log names only the group at
    # submission and each member when it finishes ('Finished jobid: N (Rule: r)')
    grouped: set[int] = field(default_factory=set)


def _paths(value: str) -> list[str]:
    value = value.removesuffix(_LOG_HINT)
    return [p for p in value.split(", ") if p]


def parse_snakemake_log(text: str) -> RunLog:
    """The jobs of a run from the text of Snakemake's log (Snakemake 9's format)."""
    planned: dict[str, int] = {}
    lines = text.splitlines()
    if "Job stats:" in lines:
        for line in lines[lines.index("Job stats:") + 3 :]:
            m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
            if not m or m.group(1) == "total":
                break
            planned[m.group(1)] = int(m.group(2))
    started: dict[int, Job] = {}
    finished: set[int] = set()
    failed: set[int] = set()
    finished_rule: dict[int, str] = {}
    current: Job | None = None
    in_error = False
    for line in lines:
        if m := _JOB_START.match(line):
            current, in_error = Job(m.group(1), -1), False
            continue
        if m := _ERROR.match(line):
            current, in_error = Job(m.group(1), -1), True
            continue
        if current is not None and (m := _FIELD.match(line)):
            key, value = m.groups()
            if key == "jobid":
                current.jobid = int(value)
                if in_error:
                    failed.add(current.jobid)
                else:
                    started.setdefault(current.jobid, current)
            elif key == "output" and not in_error:
                current.outputs = _paths(value)
            elif key == "log" and not in_error:
                current.logs = _paths(value)
            continue
        if m := _FINISHED.match(line):
            finished.add(int(m.group(1)))
            finished_rule[int(m.group(1))] = m.group(2)
        if not line.startswith("    "):
            current = None
    grouped = {i for i in finished_rule if i not in started}
    for i in grouped:
        started[i] = Job(finished_rule[i], i)
    return RunLog(planned, started, finished, failed, grouped)


def job_warnings(log_paths, workdir=".") -> list[tuple[str, str]]:
    """(warning, log file) of every warning line in the given job logs, in order."""
    out = []
    for rel in log_paths:
        path = Path(workdir, rel)
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        out += [(m.group(1), rel) for m in map(WARNING_LINE.match, text.splitlines()) if m]
    return out


def run_logs(rules, since: float, workdir=".", known=frozenset()) -> list[str]:
    """Job logs (relative to ``workdir``) under ``logs/<rule>/`` written at or after
    ``since``, for jobs whose log Snakemake's own log does not name (group members)."""
    out = []
    for rule in sorted(rules):
        base = Path(workdir, "logs", rule)
        for path in sorted(base.rglob("*.log")) if base.is_dir() else []:
            rel = str(path.relative_to(workdir))
            if rel not in known and path.stat().st_mtime >= since:
                out.append(rel)
    return out


def run_start(logfile) -> float | None:
    """When the run of a Snakemake log file started: its name is the start time
    (``2026-12-01T234246.418311.snakemake.log``, local time)."""
    import datetime as dt

    name = Path(logfile).name.removesuffix(".snakemake.log")
    try:
        return dt.datetime.strptime(name, "%Y-%m-%dT%H%M%S.%f").timestamp()
    except ValueError:
        return None


def failure_cause(log_paths, workdir=".") -> str:
    """The one-line cause of a failed job, from its log: the ``bad input`` message; for an
    unexpected error the exception's last traceback line (``unexpected error:
    FileExistsError: [Errno 17] File exists: '/x'``); else the log's last exception line or
    ERROR line; else what is known (an empty log: the job was killed, or died before
    logging)."""
    texts = []
    for rel in log_paths:
        try:
            texts.append(Path(workdir, rel).read_text(errors="replace"))
        except OSError:
            continue
    for text in texts:
        for line in text.splitlines():
            if m := _BAD_INPUT.search(line):
                return m.group(1)
    for text in texts:
        lines = text.splitlines()
        exc = [line for line in lines if _EXCEPTION_LINE.match(line)]
        if any(_UNEXPECTED.search(line) for line in lines) and exc:
            return f"unexpected error: {exc[-1].strip()}"
        if exc:
            return exc[-1].strip()
        errors = [m.group(1) for m in map(_ERROR_LINE.match, lines) if m]
        if errors:
            return errors[-1]
    if not log_paths:
        return "no log"
    if not texts:
        return "its log was not written (the job did not start, or its node was lost)"
    return "its log names no cause (killed? a time or memory limit, or by hand)"


def summarize(
    run: RunLog,
    problems: dict[str, str],
    warnings: list[str],
    success: bool,
    workdir=".",
    since: float | None = None,
) -> str:
    """The summary text of a run.

    ``problems``: planning problem target -> message (each is also a failed input_problem
    job when the run asked for it); ``warnings``: planning warnings; ``since``: when the run
    started (epoch seconds): the logs of jobs run inside group jobs are found as the files
    under ``logs/<rule>/`` written since then."""
    jobs = run.started
    done = [j for i, j in sorted(jobs.items()) if i in run.finished and j.rule != "all"]
    failed = [jobs.get(i) or Job("?", i) for i in sorted(run.failed)]
    per_rule: dict[str, list[int]] = {}
    for j in done:
        counts = per_rule.setdefault(j.rule, [0, 0])
        counts[0] += 1
        counts[1] += len(j.outputs)
    not_run = {
        rule: n - sum(1 for j in jobs.values() if j.rule == rule)
        for rule, n in run.planned.items()
        if rule != "all"
    }
    lines = [
        f"hippoflow run summary: {'success' if success else 'FAILED'}",
        f"produced: {len(done)} job(s), {sum(c[1] for c in per_rule.values())} file(s)",
    ]
    lines += [f"  {rule}: {n} job(s), {k} file(s)" for rule, (n, k) in sorted(per_rule.items())]
    lines.append(f"failed: {len(failed)} job(s)")
    for j in failed:
        where = ", ".join(j.logs) or ", ".join(j.outputs) or f"job {j.jobid}"
        lines.append(f"  {j.rule} ({where}): {failure_cause(j.logs, workdir)}")
    skipped = {r: n for r, n in not_run.items() if n > 0}
    lines.append(f"not run (an input failed or the run stopped): {sum(skipped.values())} job(s)")
    lines += [f"  {rule}: {n} job(s)" for rule, n in sorted(skipped.items())]
    lines.append(f"planning problems (each fails a job input_problem): {len(problems)}")
    lines += [f"  {msg}" for msg in problems.values()]
    logs = [p for j in jobs.values() for p in j.logs]
    if run.grouped and since is not None:  # members' logs are not in Snakemake's log
        logs += run_logs({jobs[i].rule for i in run.grouped}, since, workdir, set(logs))
    found = job_warnings(logs, workdir)
    lines.append(f"warnings: {len(warnings) + len(found)}")
    lines += [f"  {w}" for w in warnings]
    lines += [f"  {w} ({log})" for w, log in found]
    return "\n".join(lines) + "\n"


def write_summary(logfile, output_root, problems, warnings, success, workdir=".") -> str:
    """Summarize the run whose Snakemake log is ``logfile`` (a path or Snakemake 9's list of
    them) into ``<output_root>/`` +
    :data:`SUMMARY_NAME`; returns the text."""
    files = [logfile] if isinstance(logfile, str | Path) else list(logfile or [])
    text = "".join(Path(f).read_text(errors="replace") for f in files)
    starts = [t for t in map(run_start, files) if t is not None]
    since = min(starts) if starts else None
    summary = summarize(parse_snakemake_log(text), problems, warnings, success, workdir, since)
    path = Path(output_root) / SUMMARY_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, summary)
    except OSError as exc:  # e.g. a folder of that name: the summary is still logged
        summary += (
            f"(this summary could not be written to {path}: {exc.strerror or exc}; "
            "remove or rename what is there)\n"
        )
    return summary


def end_of_run(logfile, success, output_root, plan) -> str:
    """The Snakefile's onsuccess/onerror: write the summary (returned, for the log) and
    release the output tree's lock, also when the summary fails."""
    from hippoflow.lock import release

    try:
        return write_summary(logfile, output_root, plan.problem_messages(), plan.warnings, success)
    finally:
        release(output_root)
