# Shared helpers: config validation, discovery of the raw tree, path and hash helpers.
import os
from pathlib import Path

from snakemake.utils import validate

from hippoflow import plan as _discover
from hippoflow.dpt import hkl_name

validate(config, schema="../config/schema/config.schema.yaml")

DATA_ROOT = str(config["data_root"])
OUTPUT_ROOT = str(config.get("output_root") or DATA_ROOT)


wildcard_constraints:
    subject=_discover.SUBJECT_RE,
    day=_discover.DAY_RE,
    session=_discover.SESSION_RE,
    array=_discover.ARRAY_RE,
    channel=_discover.CHANNEL_RE,


# PyHipp argument dicts in PyHipp's argument order (the order enters the file-name hash)
RAW_ARGS = {}
LFP_ARGS = {
    "ResampleRate": config["lfp"]["ResampleRate"],
    "LFPOrder": config["lfp"]["LFPOrder"],
    "LowPassFrequency": list(config["lfp"]["LowPassFrequency"]),
}
HIGHPASS_ARGS = {
    "HighOrder": config["highpass"]["HighOrder"],
    "HighPassFrequency": list(config["highpass"]["HighPassFrequency"]),
}


def hkl(base, args):
    """DataProcessingTools file name, e.g. hkl('rpllfp', LFP_ARGS) -> 'rpllfp_6eca.hkl'."""
    return hkl_name(base, args)


def raw(path):
    return os.path.join(DATA_ROOT, path)


def out(path):
    return os.path.join(OUTPUT_ROOT, path)


SESSION_DIR = "{subject}/{day}/{session}"
CHANNEL_DIR = f"{SESSION_DIR}/array{{array}}/channel{{channel}}"


def _selection(key):
    value = config.get(key, "all")
    return (
        value
        if value == "all"
        else [str(v) if key != "channels" else int(v) for v in value]
    )


ALL_SESSIONS = _discover.discover(
    DATA_ROOT, _selection("subjects"), _selection("days"), _selection("channels")
)
SESSION_INFO = {s.key: s for s in ALL_SESSIONS}
SESSIONS = {}
for _s in ALL_SESSIONS:
    SESSIONS.setdefault((_s.subject, _s.day), []).append(_s.name)
CHANNELS = {s.key: s.channels for s in ALL_SESSIONS}
NS5 = {s.key: [str(p) for p in s.ns5] for s in ALL_SESSIONS}
NEV = {s.key: [str(p) for p in s.nev] for s in ALL_SESSIONS}
PROBLEMS = {(s.key, k): msg for s in ALL_SESSIONS for k, msg in s.problems.items()}
for _s in ALL_SESSIONS:
    if len(_s.nev) > 1:
        PROBLEMS[(_s.key, "nev_count")] = (
            f"{_s.path}: expected one .nev per session, found {len(_s.nev)}: "
            + ", ".join(p.name for p in _s.nev)
        )
if not ALL_SESSIONS:
    logger.warning(
        f"hippoflow: no sessions found under {DATA_ROOT} for the selected subjects/days"
    )


def session_of(wildcards):
    return SESSION_INFO[(wildcards.subject, wildcards.day, wildcards.session)]


def mem_for(paths, factor=1.0, base=600):
    """Memory (MB) for a job: base + factor x total input size.

    The base covers the job's own Snakemake (~160 MB on a cluster node) plus the script's
    interpreter and libraries (~150 MB): 300 MB was killed by Slurm's limit at 322 MB.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    size = sum(os.path.getsize(p) for p in paths if os.path.exists(p))
    return int(base + factor * size / 1e6)


def runtime_for(paths, minutes_per_gb=5.0, base=10):
    """Runtime (minutes) for a job from its input size."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    size = sum(os.path.getsize(p) for p in paths if os.path.exists(p))
    return int(base + minutes_per_gb * size / 1e9)


# Each rule file registers a function returning its targets for `rule all`.
TARGET_FUNCTIONS = []


def all_targets():
    targets = []
    for fn in TARGET_FUNCTIONS:
        targets.extend(fn())
    return targets


def problem_targets():
    """Bad inputs found at parse time: each becomes a job that fails with its message."""
    return [
        out(f"{s[0]}/{s[1]}/{s[2]}/.hippoflow-problem-{key}") for (s, key) in PROBLEMS
    ]


TARGET_FUNCTIONS.append(problem_targets)


# ---- Ripple (rules/ripple.smk)
RAW_NAME = hkl("rplraw", RAW_ARGS)
LFP_NAME = hkl("rpllfp", LFP_ARGS)
HIGHPASS_NAME = hkl("rplhighpass", HIGHPASS_ARGS)


def neural_sessions():
    """Sessions whose single .ns5 header was read: they get split/filter jobs."""
    return [s for s in ALL_SESSIONS if s.channels]


def ripple_targets():
    targets = []
    for s in ALL_SESSIONS:
        if len(s.nev) == 1:
            targets.append(out(f"{s.rel}/{hkl('rplparallel', {})}"))
        for array, channel in s.channels:
            base = out(f"{s.rel}/array{array}/channel{channel}/")
            targets += [base + LFP_NAME, base + HIGHPASS_NAME]
    return targets


TARGET_FUNCTIONS.append(ripple_targets)


def single_nev(wildcards):
    return NEV[(wildcards.subject, wildcards.day, wildcards.session)][:1]


def sibling_ns5(wildcards):
    """The session's .ns5, when there is exactly one (its spec version is checked)."""
    ns5 = NS5[(wildcards.subject, wildcards.day, wildcards.session)]
    return ns5 if len(ns5) == 1 else []


# One split rule per distinct channel set (normally one for the whole dataset), since a session's
# split writes every selected channel in one streaming pass, so its outputs are listed here.
_CHANNEL_SETS = {}
for _s in neural_sessions():
    _CHANNEL_SETS.setdefault(tuple(_s.channels), []).append(_s.rel)


# ---- Sorting (rules/sorting.smk, rules/report.smk)
from hippoflow.sorting import sort as _sorting

SORT_ARGS = _sorting.sort_args(config.get("sorting"))
SORT_NAME = _sorting.sort_name(SORT_ARGS)
SORT_DIR = "{subject}/{day}/sort/array{array}/channel{channel}"

# (subject, day) -> {(array, channel): sessions holding that channel, in concatenation order}
DAY_CHANNELS = {}
for _s in neural_sessions():
    for _ac in _s.channels:
        DAY_CHANNELS.setdefault((_s.subject, _s.day), {}).setdefault(_ac, []).append(
            _s.name
        )
for _chans in DAY_CHANNELS.values():
    for _ac in _chans:
        _chans[_ac] = _sorting.session_order(_chans[_ac])


def sort_sessions(wildcards):
    return DAY_CHANNELS[(wildcards.subject, wildcards.day)][
        (wildcards.array, wildcards.channel)
    ]


def sort_highpass(wildcards):
    """High-pass files of every session of the day holding the channel, in session order."""
    return [
        out(
            f"{wildcards.subject}/{wildcards.day}/{s}/array{wildcards.array}/channel{wildcards.channel}/{HIGHPASS_NAME}"
        )
        for s in sort_sessions(wildcards)
    ]


def cell_channel_dirs(wildcards):
    """Each session's channel directory, where export_cells writes cellNN/."""
    return {
        s: out(
            f"{wildcards.subject}/{wildcards.day}/{s}/array{wildcards.array}/channel{wildcards.channel}"
        )
        for s in sort_sessions(wildcards)
    }


def day_sorts(wildcards):
    chans = DAY_CHANNELS.get((wildcards.subject, wildcards.day), {})
    return [
        out(f"{wildcards.subject}/{wildcards.day}/sort/array{a}/channel{c}/{SORT_NAME}")
        for a, c in sorted(chans)
    ]


def session_lfps(wildcards):
    return [
        out(
            f"{wildcards.subject}/{wildcards.day}/{wildcards.session}/array{a}/channel{c}/{LFP_NAME}"
        )
        for a, c in CHANNELS[(wildcards.subject, wildcards.day, wildcards.session)]
    ]


def sorting_targets():
    targets = []
    for (subject, day), chans in DAY_CHANNELS.items():
        for a, c in sorted(chans):
            base = out(f"{subject}/{day}/sort/array{a}/channel{c}")
            targets += [f"{base}/cells.tsv", f"{base}/qc_sort.png"]
        targets.append(out(f"{subject}/{day}/sort/metrics.html"))
    for s in ALL_SESSIONS:
        if len(s.nev) == 1:
            targets.append(out(f"{s.rel}/qc_trials.png"))
        if s.channels:
            targets.append(out(f"{s.rel}/qc_lfp_spectrum.png"))
    return targets


TARGET_FUNCTIONS.append(sorting_targets)


def provenance_inputs(wildcards):
    """Raw files whose digests the report lists."""
    return sorted({p for s in ALL_SESSIONS for p in NS5[s.key] + NEV[s.key]})


def report_targets():
    return [out("provenance.html")] if ALL_SESSIONS else []


TARGET_FUNCTIONS.append(report_targets)


# ---- Behaviour (rules/behaviour.smk)
from hippoflow.behaviour import steps as _behaviour
from hippoflow.behaviour import unity as _unity

BEHAVIOUR = config.get("behaviour") or {}
UNITY_NAME = hkl("unity", _behaviour.UNITY_ARGS)
EDFSPLIT_NAME = hkl("edfsplit", _behaviour.EDFSPLIT_ARGS)
EYELINK_NAME = hkl("eyelink", _behaviour.EYELINK_ARGS)
RPLPARALLEL_NAME = hkl("rplparallel", {})
DAY_DIR = "{subject}/{day}"

# Unity logs per session (RawData*/session*.txt); several in one session is a bad input
UNITY_LOGS = {s.key: _unity.find_logs(s.path) for s in ALL_SESSIONS}
for _s in ALL_SESSIONS:
    if len(UNITY_LOGS[_s.key]) > 1:
        PROBLEMS[(_s.key, "unity_logs")] = (
            f"{_s.path}: expected one Unity log (RawData*/session*.txt), found "
            f"{len(UNITY_LOGS[_s.key])}: "
            + ", ".join(str(p.relative_to(_s.path)) for p in UNITY_LOGS[_s.key])
        )
# EyeLink files per day: (navigation files, fixation P* files); may be empty (missing)
EYE_FILES = {
    (s.subject, s.day): _behaviour.eyelink_files(s.path.parent) for s in ALL_SESSIONS
}


def unity_sessions():
    """Sessions with one .nev and one Unity log: unity + align_unity."""
    return [s for s in ALL_SESSIONS if len(s.nev) == 1 and len(UNITY_LOGS[s.key]) == 1]


def eyelink_sessions():
    """Sessions with one .nev whose EyeLink object is made (navigation and sessioneye)."""
    if not BEHAVIOUR.get("eyelink", True):
        return []
    return [
        s
        for s in ALL_SESSIONS
        if len(s.nev) == 1
        and (s.name == _behaviour.FIXATION_SESSION or len(UNITY_LOGS[s.key]) == 1)
    ]


def behaviour_targets():
    targets = [out(f"{s.rel}/{UNITY_NAME}") for s in unity_sessions()]
    eye = eyelink_sessions()
    targets += [out(f"{s.rel}/{EYELINK_NAME}") for s in eye]
    targets += [
        out(f"{s.rel}/{name}")
        for s in eye
        if s.name != _behaviour.FIXATION_SESSION
        for name in ("binData.hdf", "unityfile_eyelink.csv")
    ]
    return targets


TARGET_FUNCTIONS.append(behaviour_targets)


def unity_log(wildcards):
    return UNITY_LOGS[(wildcards.subject, wildcards.day, wildcards.session)][:1]


def edfsplit_source(wildcards):
    """The day's navigation EyeLink file(s); [] when missing (the job then says so)."""
    return [
        str(p) for p in EYE_FILES.get((wildcards.subject, wildcards.day), ([], []))[0]
    ]


def eyelink_source(wildcards):
    """sessioneye: the day's P* file(s); navigation: the day's edfsplit object."""
    if wildcards.session == _behaviour.FIXATION_SESSION:
        fix = EYE_FILES.get((wildcards.subject, wildcards.day), ([], []))[1]
        return [str(p) for p in fix]
    return [out(f"{wildcards.subject}/{wildcards.day}/{EDFSPLIT_NAME}")]


def day_raw_dir(wildcards):
    return raw(f"{wildcards.subject}/{wildcards.day}")


def day_session_names(wildcards):
    return SESSIONS[(wildcards.subject, wildcards.day)]
