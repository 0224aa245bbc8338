"""The plan: which jobs the workflow derives from the discovered sessions, each job's inputs,
and the target paths of every domain.

Inputs: :class:`~hippoflow.plan.discovery.Session` records, their Unity logs, each day's
EyeLink files and the problems found while planning.  Outputs: a :class:`Plan` whose
methods give the rules their inputs and targets, relative to the output root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hippoflow.errors import InputError
from hippoflow.naming import (
    BINDATA_NAME,
    EDFSPLIT_NAME,
    EYELINK_NAME,
    GAZE_CSV_NAME,
    RPLPARALLEL_NAME,
    SORT_OUTCOME_NAME,
    UNITY_NAME,
    is_fixation,
    session_order,
)
from hippoflow.plan.discovery import Session
from hippoflow.plan.problems import PROBLEM_PREFIX
from hippoflow.plan.stale import GONE_PREFIX
from hippoflow.plan.stale import PROBLEM_KEY as CHANGED_RAW

# PyHipp's Waveform reads a day-channel's templates here (relative to the day; no array level)
WAVEFORM_TEMPLATES = "mountains/channel{channel}/output/templates.hkl"
# the day's files of rule fields_day (relative to <day>/fields/)
DAY_FIELD_FILES = ("cells.tsv", "fields.html")

SessionKey = tuple[str, str, str]  # (subject, day, session)
DayKey = tuple[str, str]  # (subject, day)
# where a problem is reported: a session, a day, a subject, or () for the whole run
Where = tuple[str, ...]


@dataclass
class Plan:
    """Everything the rules need to know about the selected part of the raw tree."""

    sessions: list[Session]
    unity_logs: dict[SessionKey, list[Path]]
    eye_files: dict[DayKey, tuple[list[Path], list[Path]]]
    problems: dict[tuple[Where, str], str]
    eyelink: bool = True  # config behaviour.eyelink: make EyeLink objects and the raycast
    nwb: bool = True  # config nwb.enabled: an NWB file per session
    warnings: list[str] = field(default_factory=list)  # skipped, may be deliberate

    def __post_init__(self):
        self.by_key = {s.key: s for s in self.sessions}
        self.day_sessions: dict[DayKey, list[str]] = {}
        for s in self.sessions:
            self.day_sessions.setdefault((s.subject, s.day), []).append(s.name)
        # one split rule per distinct channel set (normally one): its outputs are listed
        self.channel_sets: dict[tuple, list[str]] = {}
        for s in self.neural_sessions():
            self.channel_sets.setdefault(tuple(s.channels), []).append(s.rel)
        # (subject, day) -> {(array, channel): sessions holding it, in session order}
        self.day_channels: dict[DayKey, dict[tuple[str, str], list[str]]] = {}
        for s in self.neural_sessions():
            for ac in s.channels:
                self.day_channels.setdefault((s.subject, s.day), {}).setdefault(ac, []).append(
                    s.name
                )
        for chans in self.day_channels.values():
            for ac in chans:
                chans[ac] = session_order(chans[ac])
        # (subject, day, channel) -> arrays holding it (one, unless sessions disagree)
        self.channel_arrays: dict[tuple[str, str, str], list[str]] = {}
        for (subject, day), chans in self.day_channels.items():
            for a, c in sorted(chans):
                self.channel_arrays.setdefault((subject, day, c), []).append(a)
        for (subject, day, c), arrays in self.channel_arrays.items():
            if len(arrays) > 1:
                first = session_order(
                    {s for a in arrays for s in self.day_channels[(subject, day)][(a, c)]}
                )[0]
                self.problems[((subject, day, first), f"channel{c}_arrays")] = (
                    f"{subject}/{day}: channel {c} is in arrays "
                    + ", ".join(
                        f"array{a} ({', '.join(self.day_channels[(subject, day)][(a, c)])})"
                        for a in arrays
                    )
                    + f": the sessions' .ns5 headers disagree on its bank; its templates file "
                    f"{WAVEFORM_TEMPLATES.format(channel=c)} has no array level"
                )

    # ---- session kinds
    def neural_sessions(self) -> list[Session]:
        """Sessions whose single .ns5 header was read: they get split/filter jobs."""
        return [s for s in self.sessions if s.channels]

    def marker_sessions(self) -> list[Session]:
        """Sessions with exactly one .nev: they get rplparallel (and qc_trials)."""
        return [s for s in self.sessions if len(s.nev) == 1]

    def unity_sessions(self) -> list[Session]:
        """Sessions with one .nev and one Unity log: unity + align_unity."""
        return [s for s in self.marker_sessions() if len(self.unity_logs[s.key]) == 1]

    def eyelink_sessions(self) -> list[Session]:
        """Sessions with one .nev whose EyeLink object is made (navigation and sessioneye):
        not those of a day with two EyeLink files for their role (a planning problem of the
        day, ``problems.eye_files``)."""
        if not self.eyelink:
            return []
        return [
            s
            for s in self.marker_sessions()
            if (is_fixation(s.name) or len(self.unity_logs[s.key]) == 1)
            and len(self.eye_files.get((s.subject, s.day), ([], []))[is_fixation(s.name)]) <= 1
        ]

    # ---- per-job inputs
    def ns5(self, key: SessionKey) -> list[str]:
        return [str(p) for p in self.by_key[key].ns5]

    def nev(self, key: SessionKey) -> list[str]:
        return [str(p) for p in self.by_key[key].nev]

    def _paired(self, s: Session) -> bool:
        """One .nev and one .ns5 whose file specs were read and agree."""
        return s.nev_version is not None and s.nev_version == s.ns5_version

    def pair_ns5(self, key: SessionKey) -> list[str]:
        """The .ns5 rplparallel reads beside its .nev: only a readable header of the same file
        spec (a bad .ns5 does not stop the session's markers and behaviour)."""
        s = self.by_key[key]
        return [str(s.ns5[0])] if self._paired(s) else []

    def pair_nev(self, key: SessionKey) -> list[str]:
        """The .nev rplsplit checks beside its .ns5: only one whose file spec was read and
        agrees (a bad .nev does not stop the split of a good .ns5)."""
        s = self.by_key[key]
        return [str(s.nev[0])] if self._paired(s) else []

    def changed_raw(self, key: SessionKey, kinds=(CHANGED_RAW,)) -> list[str]:
        """The problem targets of the session's (or day's) changed raw files of ``kinds``
        (:mod:`hippoflow.plan.stale`), or []: the jobs that read them wait on them (the
        session's split and markers on a changed ``.ns5``, so nothing of the session runs)."""
        return [
            "/".join(key) + f"/{PROBLEM_PREFIX}{kind}"
            for kind in kinds
            if (key, kind) in self.problems
        ]

    def gone_sessions(self, day: DayKey) -> list[str]:
        """The problem targets of the day's session folders gone from the raw tree whose data
        its sorts hold (:func:`hippoflow.plan.stale.gone_sessions`): the sorts wait on them."""
        return [
            "/".join(k) + f"/{PROBLEM_PREFIX}{name}"
            for (k, name) in self.problems
            if k == day and name.startswith(GONE_PREFIX)
        ]

    def channels(self, key: SessionKey) -> list[tuple[str, str]]:
        return self.by_key[key].channels

    def sort_sessions(self, day: DayKey, array: str, channel: str) -> list[str]:
        return self.day_channels[day][(array, channel)]

    def channel_array(self, day: DayKey, channel: str) -> str:
        """The array of a day's channel (for its templates file, which names no array)."""
        arrays = self.channel_arrays.get((*day, channel), [])
        if len(arrays) != 1:
            raise InputError(
                f"{'/'.join(day)}: channel {channel} is in {len(arrays)} arrays "
                f"({', '.join(arrays) or 'none'}), expected one"
            )
        return arrays[0]

    def navigation_eye_files(self, day: DayKey) -> list[str]:
        return [str(p) for p in self.eye_files.get(day, ([], []))[0]]

    def fixation_eye_files(self, day: DayKey) -> list[str]:
        return [str(p) for p in self.eye_files.get(day, ([], []))[1]]

    def raw_files(self) -> list[str]:
        """Every readable raw .ns5/.nev of the plan (the provenance page lists their digests)."""
        return sorted({str(p) for s in self.sessions for p in s.ns5 + s.nev})

    # ---- targets (paths relative to the output root)
    def problem_targets(self) -> list[str]:
        return list(self.problem_messages())

    def problem_messages(self) -> dict[str, str]:
        """Target (relative to the output root) -> message of every planning problem."""
        return {
            "".join(f"{part}/" for part in where) + PROBLEM_PREFIX + name: msg
            for (where, name), msg in self.problems.items()
        }

    def problem_message(self, target: str) -> str:
        """The message of a problem target (``rules/problems.smk``)."""
        return self.problem_messages()[target]

    def ripple_targets(self, lfp_name: str, highpass_name: str) -> list[str]:
        targets = []
        for s in self.sessions:
            if len(s.nev) == 1:
                targets.append(f"{s.rel}/{RPLPARALLEL_NAME}")
            for array, channel in s.channels:
                base = f"{s.rel}/array{array}/channel{channel}/"
                targets += [base + lfp_name, base + highpass_name]
        return targets

    def sorting_targets(self) -> list[str]:
        targets = []
        for (subject, day), chans in self.day_channels.items():
            for a, c in sorted(chans):
                base = f"{subject}/{day}/sort/array{a}/channel{c}"
                targets += [f"{base}/cells.tsv", f"{base}/qc_sort.png"]
                if len(self.channel_arrays[(subject, day, c)]) == 1:
                    templates = WAVEFORM_TEMPLATES.format(channel=c)
                    targets.append(f"{subject}/{day}/{templates}")
            targets.append(f"{subject}/{day}/sort/metrics.html")
            targets.append(f"{subject}/{day}/sort/{SORT_OUTCOME_NAME}")
        return targets

    def qc_targets(self) -> list[str]:
        targets = []
        for s in self.sessions:
            if len(s.nev) == 1:
                targets.append(f"{s.rel}/qc_trials.png")
            if s.channels:
                targets.append(f"{s.rel}/qc_lfp_spectrum.png")
        return targets

    def behaviour_targets(self) -> list[str]:
        targets = [f"{s.rel}/{UNITY_NAME}" for s in self.unity_sessions()]
        eye = self.eyelink_sessions()
        targets += [f"{s.rel}/{EYELINK_NAME}" for s in eye]
        targets += [
            f"{s.rel}/{name}"
            for s in eye
            if not is_fixation(s.name)
            for name in (BINDATA_NAME, GAZE_CSV_NAME)
        ]
        return targets

    def field_sessions(self, day: DayKey, array: str, channel: str) -> dict[str, bool]:
        """The navigation sessions of a day-channel's sort that have an aligned Unity object
        (rule ``fields``), each with whether its gaze bins (``binData.hdf``) are made."""
        unity = {s.name for s in self.unity_sessions() if (s.subject, s.day) == day}
        eye = {s.name for s in self.eyelink_sessions() if (s.subject, s.day) == day}
        return {
            name: name in eye
            for name in self.sort_sessions(day, array, channel)
            if not is_fixation(name) and name in unity
        }

    def session_has_gaze(self, day: DayKey, session: str) -> bool:
        """Whether a session's gaze bins (``binData.hdf``) are made (rule ``fields_samples``)."""
        return any(s.name == session and (s.subject, s.day) == day for s in self.eyelink_sessions())

    def fields_targets(self) -> list[str]:
        """Per day-channel with a navigation session: ``fields/arrayNN/channelNNN/fields.tsv``;
        per such day: ``fields/cells.tsv`` and ``fields/fields.html`` (rules/fields.smk)."""
        targets = []
        for (subject, day), chans in self.day_channels.items():
            rows = [
                f"{subject}/{day}/fields/array{a}/channel{c}/fields.tsv"
                for a, c in sorted(chans)
                if self.field_sessions((subject, day), a, c)
            ]
            if rows:
                targets += rows + [f"{subject}/{day}/fields/{n}" for n in DAY_FIELD_FILES]
        return targets

    def report_targets(self) -> list[str]:
        return ["provenance.html"] if self.sessions else []

    def edfsplit_path(self, day: DayKey) -> str:
        return f"{day[0]}/{day[1]}/{EDFSPLIT_NAME}"

    def sort_left_out(self, day: DayKey, array: str, channel: str) -> dict[str, str]:
        """Sessions of the day that a day-channel's sort goes without, each with the reason
        (in session order): no .ns5, an .ns5 with a planning problem (its problem's message),
        or a header without this channel.  The sort runs on :meth:`sort_sessions`."""
        used = set(self.day_channels.get(day, {}).get((array, channel), []))
        out = {}
        for name in session_order(self.day_sessions.get(day, [])):
            if name in used:
                continue
            s = self.by_key[(*day, name)]
            ns5_problems = [m for k, m in s.problems.items() if k.startswith("ns5")]
            if not s.ns5:
                out[name] = f"{s.path}: no .ns5 file"
            elif ns5_problems:
                out[name] = "; ".join(ns5_problems)
            else:
                out[name] = f"{s.ns5[0]}: no electrode {int(channel)} on array{array} in its header"
        return out

    def nwb_targets(self) -> list[str]:
        """``<session>/<subject>_<day>_<session>.nwb`` of every session with one .nev (its
        trials), when nwb.enabled."""
        if not self.nwb:
            return []
        return [f"{s.rel}/{s.subject}_{s.day}_{s.name}.nwb" for s in self.marker_sessions()]
