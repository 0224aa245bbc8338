# Shared helpers: config validation, wildcard constraints, and thin wrappers for Snakemake
# around the hippoflow.plan package (discovery of the raw tree, targets) and hippoflow.naming (file names).
import os

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from hippoflow import dagspeed as _dagspeed
from hippoflow import naming as _naming
from hippoflow.plan import stale as _stale
from hippoflow import plan as _plan
from hippoflow.plan import resources as _resources
from hippoflow.config import NODE_LOCAL_GROUP as _NODE_LOCAL_GROUP
from hippoflow.config import NODE_LOCAL_RULES as _NODE_LOCAL_RULES
from hippoflow.config import config_problems as _config_problems
from hippoflow.config import node_local_problem as _node_local_problem
from hippoflow.config import output_root as _output_root
from hippoflow.config import retype_cli_config as _retype_cli_config
from hippoflow.dpt import hkl_name
from hippoflow.errors import InputError as _InputError
from hippoflow.sorting.curate import curate_args as _curate_args
from hippoflow.sorting.curate import curated_name as _curated_name
from hippoflow.sorting.sort import sort_args as _sort_args
from hippoflow.sorting.sort import sort_name as _sort_name

# Snakemake checks each job's script file once per job; once per script is enough
# (hippoflow/dagspeed.py; HIPPOFLOW_DAGSPEED=0 keeps Snakemake's own check, for benchmarks).
if os.environ.get("HIPPOFLOW_DAGSPEED", "1") != "0":
    _dagspeed.install()

# --config leaves values nested in a mapping strings (`behaviour={eyelink: false}` gives
# "false") and reads a string holding ": " as a mapping: give them the schema's types
# (hippoflow/config.py).
for _change in _retype_cli_config(
    config,
    os.path.join(workflow.basedir, "config", "schema", "config.schema.yaml"),
    workflow.config_settings.config_args,
):
    logger.debug(f"hippoflow: config {_change}")
# Fills every default from the schema (the one place defaults are written).
validate(config, schema="../config/schema/config.schema.yaml", set_default=True)
# What the schema cannot say (directories that are files, NWB metadata DANDI refuses),
# before any job runs; each problem names its key (hippoflow/config.py).
_config_errors = _config_problems(config)
if _config_errors:
    raise WorkflowError(
        "hippoflow: bad config: "
        + "; ".join(_config_errors)
        + " (set the key in your config file or with --config)"
    )

DATA_ROOT = str(config["data_root"])
OUTPUT_ROOT = _output_root(config)
BEHAVIOUR = config["behaviour"]


wildcard_constraints:
    subject=_naming.SUBJECT_RE,
    day=_naming.DAY_RE,
    session=_naming.SESSION_RE,
    array=_naming.ARRAY_RE,
    channel=_naming.CHANNEL_RE,


# PyHipp argument dicts in PyHipp's argument order (the order enters the file-name hash)
RAW_ARGS = _naming.RAW_ARGS
LFP_ARGS = _naming.lfp_args(config["lfp"])
HIGHPASS_ARGS = _naming.highpass_args(config["highpass"])
SORT_ARGS = _sort_args(config["sorting"])  # the sorter's keys only: its file's hash
CURATE_ARGS = _curate_args(config["sorting"])  # the curation limits: the curated file's

RAW_NAME = _naming.RAW_NAME
LFP_NAME = hkl_name("rpllfp", LFP_ARGS)
HIGHPASS_NAME = hkl_name("rplhighpass", HIGHPASS_ARGS)
SORT_NAME = _sort_name(SORT_ARGS)
CURATED_NAME = _curated_name(CURATE_ARGS)
RPLPARALLEL_NAME = _naming.RPLPARALLEL_NAME
UNITY_NAME = _naming.UNITY_NAME
EDFSPLIT_NAME = _naming.EDFSPLIT_NAME
EYELINK_NAME = _naming.EYELINK_NAME
BINDATA_NAME = _naming.BINDATA_NAME
GAZE_CSV_NAME = _naming.GAZE_CSV_NAME

SESSION_DIR = "{subject}/{day}/{session}"
CHANNEL_DIR = f"{SESSION_DIR}/array{{array}}/channel{{channel}}"
DAY_DIR = "{subject}/{day}"
SORT_DIR = "{subject}/{day}/sort/array{array}/channel{channel}"

mem_for = _resources.mem_for
runtime_for = _resources.runtime_for
mem_of_mb = _resources.mem_mb
runtime_of_mb = _resources.runtime_min


def raw(path):
    return os.path.join(DATA_ROOT, path)


def out(path):
    return os.path.join(OUTPUT_ROOT, path)


try:
    # the raw files are compared with the outputs' digest records by the main process
    # (hippoflow/plan/stale.py); a job of the run (cluster or subprocess) need not again
    PLAN = _plan.make_plan(config, check_outputs=workflow.is_main_process)
except _InputError as _exc:  # e.g. data_root missing: one line, not a traceback
    raise WorkflowError(
        f"hippoflow: {_exc} (set data_root, or run `make demo` for the demo tree)"
    )
if not PLAN.sessions:
    PLAN.warnings.append(
        f"{DATA_ROOT}: no sessions found for the selected subjects/days"
    )
# Planning's warnings and problems, said once by the main process (not by each cluster job);
# the run summary (onsuccess/onerror, hippoflow/summary.py) repeats them.
if workflow.is_main_process:
    for _w in PLAN.warnings:
        logger.warning(f"hippoflow: warning: {_w}")
    for _target, _msg in PLAN.problem_messages().items():
        logger.warning(f"hippoflow: planning problem (job input_problem fails): {_msg}")


def _session(wc):
    return (wc.subject, wc.day, wc.session)


def _day(wc):
    return (wc.subject, wc.day)


# ---- targets of `rule all`, per domain
def all_targets():
    return [
        out(p)
        for p in PLAN.problem_targets()
        + kept(PLAN.ripple_targets(LFP_NAME, HIGHPASS_NAME))
        + PLAN.sorting_targets()
        + PLAN.fields_targets()
        + PLAN.qc_targets()
        + PLAN.report_targets()
        + PLAN.behaviour_targets()
        + PLAN.nwb_targets()
    ]


# ---- input functions (rules/ripple.smk)
def single_nev(wc):
    return PLAN.nev(_session(wc))[:1]


def _waits_on(problems):
    """The failing problem jobs (hippoflow/plan/stale.py) a job waits on, or []: so no old
    output passes as current. Snakemake runs such a job only when it is a target (rule
    all's, the default), not for a missing input of outputs that exist: a run of other
    targets that needs the job stops here with the problem's message."""
    problem = [out(t) for t in problems]
    asked = set(workflow.dag_settings.targets)
    if (
        problem
        and asked
        and "all" not in asked
        and not {os.path.abspath(t) for t in asked} & set(problem)
    ):
        raise WorkflowError(
            f"hippoflow: bad input: {PLAN.problem_message(problems[0])}"
        )
    return problem


def changed_raw(wc):
    """The session's changed .ns5: its split waits on it."""
    return _waits_on(PLAN.changed_raw(_session(wc)))


def changed_markers(wc):
    """The session's changed .ns5 or .nev: its markers wait on them (and so everything made
    from the session's markers)."""
    return _waits_on(
        PLAN.changed_raw(_session(wc), (_stale.PROBLEM_KEY, _stale.NEV_KEY))
    )


def changed_unity(wc):
    return _waits_on(PLAN.changed_raw(_session(wc), (_stale.UNITY_KEY,)))


def changed_eye_navigation(wc):
    return _waits_on(PLAN.changed_raw(_day(wc), (_stale.EYE_NAVIGATION_KEY,)))


def changed_eye_fixation(wc):
    return _waits_on(PLAN.changed_raw(_session(wc), (_stale.EYE_FIXATION_KEY,)))


def gone_sessions(wc):
    """The day's session folders gone from the raw tree whose data its sorts hold."""
    return _waits_on(PLAN.gone_sessions(_day(wc)))


def sibling_ns5(wc):
    """The session's .ns5 when its header was read and its file spec is the .nev's (planning
    made the pair check): a bad .ns5 does not stop the session's markers."""
    return PLAN.pair_ns5(_session(wc))


# ---- input functions (rules/sorting.smk, rules/qc.smk, rules/report.smk)
def sort_sessions(wc):
    return PLAN.sort_sessions(_day(wc), wc.array, wc.channel)


def sort_highpass(wc):
    """High-pass files of every session of the day holding the channel, in session order."""
    check_node_local_mode()
    return [
        intermediate_path(
            f"{wc.subject}/{wc.day}/{s}/array{wc.array}/channel{wc.channel}/{HIGHPASS_NAME}",
            "highpass",
        )
        for s in sort_sessions(wc)
    ]


def cell_channel_dirs(wc):
    """Each session's channel directory, where curate writes cellNN/."""
    return {
        s: out(f"{wc.subject}/{wc.day}/{s}/array{wc.array}/channel{wc.channel}")
        for s in sort_sessions(wc)
    }


def templates_sort(wc):
    """The curated sort of a day's channel, found from the channel alone (PyHipp's mountains/
    directory has no array level)."""
    a = PLAN.channel_array(_day(wc), wc.channel)
    return out(
        f"{wc.subject}/{wc.day}/sort/array{a}/channel{wc.channel}/{CURATED_NAME}"
    )


def day_sorts(wc):
    chans = PLAN.day_channels.get(_day(wc), {})
    return [
        out(f"{wc.subject}/{wc.day}/sort/array{a}/channel{c}/{CURATED_NAME}")
        for a, c in sorted(chans)
    ]


def session_lfps(wc):
    return [
        out(f"{wc.subject}/{wc.day}/{wc.session}/array{a}/channel{c}/{LFP_NAME}")
        for a, c in PLAN.channels(_session(wc))
    ]


def provenance_inputs(wc):
    """What the provenance page reads for its digests: the record of each split .ns5's
    SHA-256 that rplsplit wrote while reading it (rules/ripple.smk), and the raw files no
    split reads (the .nev files, an .ns5 of a session that is not split), hashed by the
    page's job; nothing with report.input_digests false (sizes only)."""
    from hippoflow.digests import NS5_RECORD

    if not config["report"]["input_digests"]:
        return {"records": [], "raw": []}
    split = {
        str(s.ns5[0]): out(f"{s.rel}/{NS5_RECORD}") for s in PLAN.neural_sessions()
    }
    return {
        "records": sorted(split.values()),
        "raw": [p for p in PLAN.raw_files() if p not in split],
    }


# ---- input functions (rules/fields.smk)
def field_inputs(wc):
    """The curated sort and, per navigation session of the day-channel, its samples file
    (rule fields_samples)."""
    sessions = PLAN.field_sessions(_day(wc), wc.array, wc.channel)
    files = {"curated": out(f"{SORT_DIR}/{CURATED_NAME}".format(**wc))}
    for s in sessions:
        files[f"samples_{s}"] = out(f"{wc.subject}/{wc.day}/fields/samples/{s}.h5")
    return files


def field_samples_inputs(wc):
    """A navigation session's aligned Unity object and (where the raycast runs) its
    binData.hdf and aligned EyeLink object."""
    base = f"{wc.subject}/{wc.day}/{wc.session}"
    files = {"unity": out(f"{base}/{UNITY_NAME}")}
    if PLAN.session_has_gaze(_day(wc), wc.session):
        files["bindata"] = out(f"{base}/{BINDATA_NAME}")
        files["eyelink"] = out(f"{base}/{EYELINK_NAME}")
    return files


def day_field_tables(wc):
    chans = PLAN.day_channels.get(_day(wc), {})
    return [
        out(f"{wc.subject}/{wc.day}/fields/array{a}/channel{c}/fields.tsv")
        for a, c in sorted(chans)
        if PLAN.field_sessions(_day(wc), a, c)
    ]


# ---- input functions (rules/behaviour.smk)
def unity_log(wc):
    return [str(p) for p in PLAN.unity_logs[_session(wc)][:1]]


def edfsplit_source(wc):
    """The day's navigation EyeLink file(s); [] when missing (the job then says so)."""
    return PLAN.navigation_eye_files(_day(wc))


def eyelink_source(wc):
    """sessioneye: the day's P* file(s); navigation: the day's edfsplit object."""
    if _naming.is_fixation(wc.session):
        return PLAN.fixation_eye_files(_day(wc))
    return [out(PLAN.edfsplit_path(_day(wc)))]


def day_raw_dir(wc):
    return raw(f"{wc.subject}/{wc.day}")


def day_session_names(wc):
    return PLAN.day_sessions[_day(wc)]


# ---- intermediates: the split (rplraw) and high-pass files (config `intermediates`)
# One place decides how they are declared: kept in the output tree (default, PyHipp's layout),
# temp() there (keep_split / keep_highpass false: Snakemake deletes each once its consumers
# ran), or, with node_local_dir, temp(..., group_jobs=True) under that directory on the
# compute node: Snakemake's "nodelocal" files, written and deleted inside the one group job
# that makes and consumes them (docs/node-local.md).
INTERMEDIATES = config["intermediates"]
NODE_LOCAL_DIR = INTERMEDIATES["node_local_dir"]
INTERMEDIATE_NAMES = {"split": RAW_NAME, "highpass": HIGHPASS_NAME}
#: rules that read a node-local file: one job group, else Snakemake refuses the DAG
NODE_LOCAL_RULES = _NODE_LOCAL_RULES
#: the day group's members: the split and LFP rules (one per channel set), the readers of
#: node-local files, and the day's other channel steps, which then run in the same inner
#: Snakemake side by side instead of one after the other in the job's outer one
NODE_LOCAL_MEMBERS = (
    "rplsplit",
    "rpllfp",
    "rplhighpass",
    "qc_lfp",
    "sort",
    "curate",
    "waveform_templates",
    "qc_metrics",
)
NODE_LOCAL_GROUP = _NODE_LOCAL_GROUP


def intermediate_path(rel, kind):
    """Path (pattern) of an intermediate file, `rel` relative to the output tree."""
    assert kind in INTERMEDIATE_NAMES, kind
    if NODE_LOCAL_DIR:
        return os.path.join(NODE_LOCAL_DIR, rel)
    return out(rel)


def intermediate(rel, kind):
    """The output declaration of an intermediate file (rules/ripple.smk)."""
    path = intermediate_path(rel, kind)
    if NODE_LOCAL_DIR:
        return temp(path, group_jobs=True)
    if not INTERMEDIATES[f"keep_{kind}"]:
        return temp(path)
    return path


# ---- sizes from the .ns5 headers (hippoflow/plan/resources.py): a split, high-pass or LFP
# file's megabytes before it exists, the same when the node-local day job is submitted and
# inside it (its members' requests set its memory limit there)
def _sp_key(wc):
    return tuple(wc.sp.split("/"))


def channel_mb(key):
    """One channel's split (= high-pass) file of session `key`, float32, MB."""
    return _resources.channel_mb(PLAN.ns5(key)[0])


def session_split_mb(key):
    """Every split file of session `key` (what its LFP job reads), MB."""
    return len(PLAN.channels(key)) * channel_mb(key)


def session_lfp_mb(key):
    """Every LFP file of session `key` (what qc_lfp reads), MB."""
    ns5 = PLAN.ns5(key)[0]
    return len(PLAN.channels(key)) * _resources.channel_mb(
        ns5, LFP_ARGS["ResampleRate"]
    )


def sort_mb(wc):
    """The high-pass files a day-channel's sort reads, MB."""
    return sum(channel_mb((wc.subject, wc.day, s)) for s in sort_sessions(wc))


def sort_seconds(wc):
    """Recording seconds a day-channel's sort reads."""
    total = 0.0
    for s in sort_sessions(wc):
        n, fs = _resources.recording(PLAN.ns5((wc.subject, wc.day, s))[0])
        total += n / fs
    return total


def kept(targets):
    """Targets of `rule all` without the intermediates that are not kept (a temp file asked
    for by `all` would be remade on every run)."""
    dropped = {
        name
        for kind, name in INTERMEDIATE_NAMES.items()
        if NODE_LOCAL_DIR or not INTERMEDIATES[f"keep_{kind}"]
    }
    return [t for t in targets if os.path.basename(t) not in dropped]


def declare_node_local_group():
    """In node-local mode, put every member of the day group into it, in the workflow (the
    Snakefile calls this after all includes, once every rule exists). The Slurm plugin does
    not pass the profile's --groups on to the Snakemake that runs a day job on its node: only
    groups declared here make that Snakemake hand the whole day to one inner Snakemake (one
    `srun`, local executor, its cores and memory: limit_to_slurm_job), which runs the
    members side by side; rules grouped only in the profile would run there one at a time.
    """
    if not NODE_LOCAL_DIR:
        return
    for rule_ in workflow.rules:
        if (
            rule_.name.startswith(("rplsplit", "rpllfp"))
            or rule_.name in NODE_LOCAL_MEMBERS
        ):
            rule_.group = NODE_LOCAL_GROUP


#: what the Snakemake of a Slurm job passes to the day group's inner Snakemake (the jobstep
#: plugin removes SLURM_* variables other than the job's identity before its `srun`)
JOB_CPUS_VAR, JOB_MEM_VAR = "HIPPOFLOW_JOB_CPUS", "HIPPOFLOW_JOB_MEM_MB"


def limit_to_slurm_job():
    """Inside a node-local Slurm job, run no more cores and memory at once than the job has.

    The jobstep plugin starts the day group's inner Snakemake with `--cores all` and no
    `--resources`: `all` is every CPU the process may use, the whole node where Slurm's task
    plugin does not bind steps to their CPUs (task/none), and memory is unlimited. The job's
    Snakemake (sbatch's, in the batch step) sees SLURM_CPUS_PER_TASK and SLURM_MEM_PER_NODE
    (or SLURM_MEM_PER_CPU) and hands them on in HIPPOFLOW_JOB_*; every Snakemake in the job
    takes them as its `--cores` and `--resources mem_mb=` limits."""
    if not (NODE_LOCAL_DIR and workflow.remote_exec and "SLURM_JOB_ID" in os.environ):
        return
    env = os.environ
    if JOB_CPUS_VAR not in env and env.get("SLURM_CPUS_PER_TASK"):
        cpus = int(env["SLURM_CPUS_PER_TASK"])
        env[JOB_CPUS_VAR] = str(cpus)
        if env.get("SLURM_MEM_PER_NODE"):
            env[JOB_MEM_VAR] = env["SLURM_MEM_PER_NODE"]
        elif env.get("SLURM_MEM_PER_CPU"):
            env[JOB_MEM_VAR] = str(int(env["SLURM_MEM_PER_CPU"]) * cpus)
    if env.get(JOB_CPUS_VAR):
        cores = workflow.global_resources["_cores"].value
        cpus = int(env[JOB_CPUS_VAR])
        if cores is None or cores > cpus:
            workflow.global_resources["_cores"] = cpus
    if env.get(JOB_MEM_VAR):
        workflow.global_resources["mem_mb"] = int(env[JOB_MEM_VAR])


def within_job(mem_mb):
    """At most the memory of the Slurm job this runs in (HIPPOFLOW_JOB_MEM_MB), else as is.
    For day-group members sized from files made inside the day (the sort files): when the
    day is submitted they do not exist yet and count as empty; inside the job, a member
    that would now ask for more than the whole job runs alone with all of it, instead of
    failing the inner Snakemake's check of its request against its limit."""
    cap = os.environ.get(JOB_MEM_VAR)
    return min(mem_mb, int(cap)) if cap else mem_mb


def check_node_local_mode():
    """Node-local files and the day group go together. Called by an input function (the
    executor and the groups are known only once the DAG is built, not while parsing)."""
    if workflow.remote_exec or workflow.subprocess_exec:
        return  # a job on its node (the head checked; groups are not passed on)
    why = _node_local_problem(NODE_LOCAL_DIR, workflow.group_settings.overwrite_groups)
    if why:
        raise WorkflowError(f"hippoflow: {why}")
