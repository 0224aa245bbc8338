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
    return True


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
