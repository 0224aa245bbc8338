"""Names the whole workflow shares: directory levels, session kinds and their order, the
parallel-port codes that open a session, and PyHipp's argument dicts with the DataProcessingTools
file names they give.

Inputs: none (constants and small pure functions). Used by :mod:`hippoflow.plan`, the rule
files (through ``rules/common.smk``) and every step that names a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from hippoflow.behaviour.maze import SCREEN_H, SCREEN_W
from hippoflow.dpt import hkl_name

# ---- Directory levels: <subject>/<day>/<session>/array<NN>/channel<NNN>/cell<NN>
SUBJECT_RE = r"[a-zA-Z]+"
DAY_RE = r"[0-9]+"
SESSION_RE = r"session[a-z0-9]+"
ARRAY_RE = r"[0-9]{2}"
# the electrode id, at least 3 digits (channel001, channel1000): [0-9]{3,} written so that
# Snakemake's wildcard parser, which accepts {n} and {n,m} but not {n,}, can read it
CHANNEL_RE = r"[0-9]{3}[0-9]*"

# ---- Session kinds
FIXATION_SESSION = "sessioneye"  # the eye-calibration (fixation) session of a day
# navigation sessions are session01, session02, ...: PyHipp's NavDirName
NAVIGATION_PREFIX = "session0"


def is_fixation(session: str) -> bool:
    """True for the day's fixation (eye-calibration) session."""
    return session == FIXATION_SESSION


def session_order(names: Iterable[str]) -> list[str]:
    """The one order of a day's sessions (concatenation for sorting, EyeLink session blocks):
    navigation sessions by their number, then the fixation session, so
    ``session01 < session02 < ... < session10 < sessioneye``."""
    return sorted(names, key=lambda s: (is_fixation(s), int(re.sub(r"\D", "", s) or 0), s))


# ---- Parallel-port codes that open a session (the first code of a navigation session's
# marker stream; 204 on some rigs).  EyeLink marks the same moment with a message.
SESSION_START = 84
SESSION_START_CODES = (SESSION_START, 204)
EYELINK_TRIGGER = f"Trigger Version {SESSION_START}"

# ---- PyHipp's default arguments, in PyHipp's argument order (the order enters the hash)
RAW_ARGS: dict = {}
RPLPARALLEL_ARGS: dict = {}
SPIKETRAIN_ARGS: dict = {}
LFP_ARGS: dict = {"ResampleRate": 1000, "LFPOrder": 8, "LowPassFrequency": [1, 150]}
HIGHPASS_ARGS: dict = {"HighOrder": 8, "HighPassFrequency": [500, 7500]}
UNITY_ARGS: dict = {
    "FileLineOffset": 15,
    "DirName": "RawData*",
    "FileName": "session*",
    "TriggerVal1": 10,
    "TriggerVal2": 20,
    "TriggerVal3": 30,
    "BinNumberLimit": 500,
}
EDFSPLIT_ARGS: dict = {
    "FileName": ".edf",
    "CalibFileNameChar": "P",
    "NavDirName": NAVIGATION_PREFIX,
    "CalibDirName": FIXATION_SESSION,
    "TriggerMessage": EYELINK_TRIGGER,
}
EYELINK_ARGS: dict = {
    "FileName": ".edf",
    "CalibFileNameChar": "P",
    "NavDirName": NAVIGATION_PREFIX,
    "DirName": "session*",
    "CalibDirName": FIXATION_SESSION,
    "ScreenX": SCREEN_W,
    "ScreenY": SCREEN_H,
    "NumTrialMessages": 3,
    "TriggerMessage": EYELINK_TRIGGER,
}


def lfp_args(section: Mapping) -> dict:
    """RPLLFP arguments from the config's ``lfp`` section, in PyHipp's order."""
    return {
        "ResampleRate": section["ResampleRate"],
        "LFPOrder": section["LFPOrder"],
        "LowPassFrequency": list(section["LowPassFrequency"]),
    }


def highpass_args(section: Mapping) -> dict:
    """RPLHighPass arguments from the config's ``highpass`` section, in PyHipp's order."""
    return {
        "HighOrder": section["HighOrder"],
        "HighPassFrequency": list(section["HighPassFrequency"]),
    }


# ---- File names (DataProcessingTools: <base>_<hash of args>.hkl)
RAW_NAME = hkl_name("rplraw", RAW_ARGS)
RPLPARALLEL_NAME = hkl_name("rplparallel", RPLPARALLEL_ARGS)
SPIKETRAIN_NAME = hkl_name("spiketrain", SPIKETRAIN_ARGS)
UNITY_NAME = hkl_name("unity", UNITY_ARGS)
EDFSPLIT_NAME = hkl_name("edfsplit", EDFSPLIT_ARGS)
EYELINK_NAME = hkl_name("eyelink", EYELINK_ARGS)
BINDATA_NAME = "binData.hdf"
GAZE_CSV_NAME = "unityfile_eyelink.csv"
# the day's sort outcomes, <subject>/<day>/sort/<this> (rule sort_outcome; hippoflow.sorting.outcome)
SORT_OUTCOME_NAME = "outcome.tsv"
