"""Planning speed: seven guarded changes to how Snakemake 9.27.1 plans, not to what it plans.

:func:`install` puts in all of them: the script check below, and (each described in its own
function) the output lookup by file name and extension (``_install_output_index``), the conda
env and script paths found without expanding params (``_install_conda_spec``,
``_install_source_path``), the directory-output check by set lookups
(``_install_directory_check``), function signatures read once (``_install_function_params``)
and the cycle collector's thresholds (``_collect_garbage_less_often``). The tests compare
every job with Snakemake's own planning (``HIPPOFLOW_DAGSPEED=0``).

One check per script instead of one per job.

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
    """Install the seven changes (the module docstring); returns whether they were installed."""
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
    _install_function_params()
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
    """Look up a file's producing rules by the end of its path first.

    Snakemake's OutputIndex keeps (constant prefix, constant suffix) per output pattern and,
    for each file, walks every pattern whose prefix fits, testing the suffix, and then tests
    every output of each rule found (``Rule.is_producer``: a regular expression per output).
    Every hippoflow output starts with a wildcard right after the output root, so each lookup
    walks all patterns, and a split or LFP rule declares one output per channel (124 with the
    same file name). A pattern whose constant suffix holds a "/" can only match a file that
    ends with the whole path components after that "/" (``array01/channel001/rplraw_d41d.hkl``),
    so those are bucketed by them; the others by the text after their suffix's last "." (a
    file ending with ``.log`` is only tested against patterns ending so: the logs and
    benchmark files of every rule), and the few left are walked as before. A rule is then a
    producer when one of its outputs that fit matches: the outputs ``is_producer`` would test,
    fewer of them. Same answers, fewer tests.
    """
    from snakemake import output_index

    cls = output_index.OutputIndex
    if getattr(cls.match, "_hippoflow_once", False):
        return
    plain_init = cls.__init__

    def __init__(self, rules) -> None:
        plain_init(self, rules)
        by_tail: dict[tuple[int, str], list] = {}
        by_ext: dict[str, list] = {}
        rest = []
        for rule in rules:
            for product in rule.products():
                prefix = str(product.constant_prefix())
                suffix = str(product.constant_suffix())
                tail = suffix.split("/", 1)[1] if "/" in suffix else ""
                entry = (prefix, rule, suffix, product)
                if tail and not tail.endswith("/"):
                    by_tail.setdefault((tail.count("/") + 1, tail), []).append(entry)
                elif "." in suffix:
                    # a file ending with the suffix ends with the text after its last "."
                    by_ext.setdefault(suffix.rpartition(".")[2], []).append(entry)
                else:
                    rest.append(entry)
        self._hippoflow_by_tail, self._hippoflow_rest = by_tail, rest
        self._hippoflow_by_ext = by_ext
        self._hippoflow_depths = sorted({k for k, _ in by_tail})

    def candidates(self, targetfile: str):
        parts = targetfile.split("/")
        for k in self._hippoflow_depths:
            if k <= len(parts):
                yield from self._hippoflow_by_tail.get((k, "/".join(parts[-k:])), ())
        if "." in targetfile:
            yield from self._hippoflow_by_ext.get(targetfile.rpartition(".")[2], ())
        yield from self._hippoflow_rest

    def match(self, targetfile: str):
        return {
            rule
            for prefix, rule, suffix, _ in candidates(self, targetfile)
            if targetfile.startswith(prefix) and targetfile.endswith(suffix)
        }

    def match_producers(self, targetfile: str):
        found: list = []  # one or two rules: a list, not a set (Rule.__hash__ is Python code)
        for prefix, rule, suffix, product in candidates(self, targetfile):
            if any(r is rule for r in found) or not (
                targetfile.startswith(prefix) and targetfile.endswith(suffix)
            ):
                continue
            try:
                hit = product.match(targetfile)
            except Exception:  # a bad pattern: Snakemake's own check says what is wrong
                hit = rule.is_producer(targetfile)
            if hit:
                found.append(rule)
        return set(found)

    match._hippoflow_once = True
    cls.__init__, cls.match, cls.match_producers = __init__, match, match_producers


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
                f = str(f)
                # an absolute, clean path is its own Path(f).absolute(); others go through it
                if not f.startswith("/") or "/." in f or "//" in f or f.endswith("/"):
                    f = str(Path(f).absolute())
                owners.setdefault(f, []).append(job)
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


def _install_function_params() -> None:
    """Read a function's parameter names once, not once per call.

    Snakemake calls ``get_function_params`` (``inspect.signature``) each time it applies an
    input, params or resources function to a job, to know which of wildcards, input,
    threads, attempt ... to pass: several times per job. The names of a function object's
    parameters do not change; they are kept per function (weakly: a function that goes away
    takes its entry along). A function given fixed names with Snakemake's
    ``overwrite_function_params`` still answers with those, as before. ~12 % of a 46-day
    dry run with ``--quiet rules`` (which evaluates every job's resources to print them).
    """
    import inspect
    import weakref

    from snakemake import common, jobs, rules

    if getattr(common.get_function_params, "_hippoflow_once", False):
        return
    attr = common.FUNC_OVERWRITE_PARAMS_ATTR
    known: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def get_function_params(func):
        if hasattr(func, attr):
            return getattr(func, attr)
        try:
            return known[func]
        except (KeyError, TypeError):  # TypeError: not weakly referenceable (a builtin)
            pass
        found = inspect.signature(func).parameters
        try:
            known[func] = found
        except TypeError:
            pass
        return found

    get_function_params._hippoflow_once = True
    for module in (common, jobs, rules):
        module.get_function_params = get_function_params
