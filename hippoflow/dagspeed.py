"""Planning speed: one check per script instead of one per job.

Before a run (dry runs too) Snakemake 9 checks, for every job that needs to run, that the
job's ``script:`` file can be read: ``ScriptProcessor.process_job`` formats the script path
with the job's wildcards and params, asks the source cache for it (``smart_open``'s URI
parser, a stat and a read each time) and throws the text away. A hippoflow day at the lab's
scale has ~1,000 jobs per day over 19 scripts, so 46 days pay for ~50,000 identical reads:
a fifth of the 46-day dry run's time, measured with cProfile (``make bench``,
"planning: dry-run, picasso scale").

:func:`install` wraps that check so that a script path without ``{`` (none of hippoflow's
script paths depends on wildcards or params) is checked once per (rule, path); a path that
does depend on them is checked per job as before, and an unreadable script still stops the
run with Snakemake's own WorkflowError. Only the version pinned in requirements.txt is
patched: another Snakemake keeps its own behaviour (and a warning says so).
"""

from __future__ import annotations

import logging

PATCHED_FOR = "9.27.1"

log = logging.getLogger(__name__)


def install() -> bool:
    """Install the once-per-script check; returns whether it was installed."""
    import snakemake
    from snakemake import dag

    if snakemake.__version__ != PATCHED_FOR:
        log.warning(
            "hippoflow: Snakemake %s, not %s: its per-job script check is left as it is "
            "(planning is slower)",
            snakemake.__version__,
            PATCHED_FOR,
        )
        return False
    proc = dag.ScriptProcessor
    if getattr(proc.process_job, "_hippoflow_once", False):
        return True
    per_job = proc.process_job

    def process_job(self, job) -> None:
        is_kind = getattr(job, f"is_{self.script_type}")
        entry = getattr(job.rule, self.script_type, None) if is_kind else None
        if entry is None or "{" in str(entry):
            per_job(self, job)
            return
        done = self.__dict__.setdefault("_hippoflow_checked", set())
        key = (job.rule.name, str(entry))
        if key not in done:
            per_job(self, job)  # raises WorkflowError when the script cannot be read
            done.add(key)

    process_job._hippoflow_once = True
    proc.process_job = process_job
    _install_output_index()
    _install_conda_spec()
    _install_source_path()
    _install_directory_check()
    _collect_garbage_less_often()
    return True


def _collect_garbage_less_often() -> None:
    """Python's cycle collector, tuned for building a DAG of ~50,000 jobs.

    Planning creates millions of long-lived objects (jobs, files, wildcards) and few cycles
    to free; with the default thresholds (700, 10, 10) the collector walks the growing heap
    again and again: ~15 % of a 46-day dry run (same peak memory with the thresholds below,
    measured). Collections still run, 140 times less often in the youngest generation.
    """
    import gc

    gc.set_threshold(100_000, 50, 1_000)


def _install_output_index() -> None:
    """Look up a file's producing rules by its file name first.

    Snakemake's OutputIndex keeps (constant prefix, constant suffix) per output pattern and,
    for each file, walks every pattern whose prefix fits, testing the suffix. Every hippoflow
    output starts with a wildcard right after the output root, so each lookup walks all ~150
    patterns (an rplsplit rule alone declares one per channel). A pattern whose constant
    suffix holds a "/" can only match a file with the same base name, so those are bucketed
    by base name; the others are walked as before. Same answers, fewer tests.
    """
    from snakemake import output_index

    cls = output_index.OutputIndex
    if getattr(cls.match, "_hippoflow_once", False):
        return
    plain_init = cls.__init__

    def __init__(self, rules) -> None:
        plain_init(self, rules)
        by_name: dict[str, list] = {}
        rest = []
        for rule in rules:
            for product in rule.products():
                prefix = str(product.constant_prefix())
                suffix = str(product.constant_suffix())
                if "/" in suffix:
                    by_name.setdefault(suffix.rsplit("/", 1)[1], []).append((prefix, rule, suffix))
                else:
                    rest.append((prefix, rule, suffix))
        self._hippoflow_by_name, self._hippoflow_rest = by_name, rest

    def match(self, targetfile: str):
        name = targetfile.rsplit("/", 1)[-1]
        found = {
            rule
            for prefix, rule, suffix in self._hippoflow_by_name.get(name, ())
            if targetfile.startswith(prefix) and targetfile.endswith(suffix)
        }
        found.update(
            rule
            for prefix, rule, suffix in self._hippoflow_rest
            if targetfile.startswith(prefix) and targetfile.endswith(suffix)
        )
        return found

    match._hippoflow_once = True
    cls.__init__, cls.match = __init__, match


def _install_conda_spec() -> None:
    """Don't evaluate a job's params to find a conda env that cannot depend on them.

    Every hippoflow rule names ``envs/hippoflow.yaml`` (a fixed path): Snakemake's
    ``Job.conda_env_spec`` still expands all of the job's params first (each rule's param
    functions, for every one of ~50,000 jobs, and whether or not --use-conda is given) only to
    pass them to ``Rule.expand_conda_env``, which uses them only when the rule's env is a
    function. For a fixed path (or none) the env is looked up without them: the same spec
    object; params are still expanded where Snakemake needs them (rerun triggers, the job).
    """
    from snakemake import jobs

    cls = jobs.Job
    plain = cls.conda_env_spec
    if getattr(plain.fget, "_hippoflow_once", False):
        return

    def conda_env_spec(self):
        if self._conda_env_spec is None:
            env = self.rule._conda_env
            if callable(env):
                return plain.fget(self)
            self._conda_env_spec = self.rule.expand_conda_env(self.wildcards_dict)
        return self._conda_env_spec

    conda_env_spec._hippoflow_once = True
    cls.conda_env_spec = property(conda_env_spec)


def _install_source_path() -> None:
    """Find a rule's script file once per rule, not once per job.

    Before a run Snakemake asks, for each job, whether its script is newer than its outputs;
    ``Job._path_to_source_file`` first formats the script path with the job's wildcards and
    params (expanding all the job's params: every param function of the rule, per job) and
    then resolves it against the rule's directory. A path without ``{`` formats to itself, so
    it is resolved once per (rule, path) and its params are left to the job.
    """
    from snakemake import jobs

    cls = jobs.Job
    plain = cls._path_to_source_file
    if getattr(plain, "_hippoflow_once", False):
        return
    found: dict = {}

    def _path_to_source_file(self, path):
        text = str(path)
        if "{" in text or "}" in text:
            return plain(self, path)
        key = (self.rule.name, str(self.rule.basedir), text)
        if key not in found:
            found[key] = plain(self, path)
        return found[key]

    _path_to_source_file._hippoflow_once = True
    cls._path_to_source_file = _path_to_source_file


def _install_directory_check() -> None:
    """Check that no output lies inside another job's output with set lookups, not a sort.

    ``DAG.check_directory_outputs`` sorts every (output path, job) pair as ``pathlib`` paths
    and compares neighbours with ``os.path.commonpath``: ~150,000 path objects for 46 days.
    Here each output's parent folders are looked up in the set of all outputs; an output
    below another job's output raises Snakemake's own ChildIOException, as before (for any
    such pair, not only for sorted neighbours).
    """
    import os
    from pathlib import Path

    from snakemake import dag
    from snakemake.exceptions import ChildIOException

    cls = dag.DAG
    if getattr(cls.check_directory_outputs, "_hippoflow_once", False):
        return

    def check_directory_outputs(self) -> None:
        owners: dict[str, list] = {}
        for job in self.jobs:
            for f in job.output:
                owners.setdefault(str(Path(f).absolute()), []).append(job)
        for path, jobs_ in owners.items():
            parent = os.path.dirname(path)
            while parent and parent != path:
                for owner in owners.get(parent, ()):
                    for job in jobs_:
                        if owner != job:
                            raise ChildIOException(
                                parent=(Path(parent), owner), child=(Path(path), job)
                            )
                path, parent = parent, os.path.dirname(parent)

    check_directory_outputs._hippoflow_once = True
    cls.check_directory_outputs = check_directory_outputs
