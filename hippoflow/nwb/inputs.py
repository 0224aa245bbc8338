"""The nwb rule's input files, from the plan (``rules/nwb.smk`` passes these methods as
Snakemake input functions; paths are made absolute by ``out``, the output-root joiner).

What the rule reads follows the plan and the config: the aligned Unity object only for a
session with a Unity log, EyeLink outputs only when ``behaviour.eyelink`` made them (and the
day's EDFSplit and the raycast table for navigation sessions), the 30 kHz files only when
``nwb.highpass`` / ``nwb.raw`` ask for them, the split's digest record of the ``.ns5`` only
for a session that is split (the others have their ``.ns5`` hashed by the job).
"""

from __future__ import annotations

from collections.abc import Callable

from hippoflow.digests import NS5_RECORD
from hippoflow.naming import EYELINK_NAME, GAZE_CSV_NAME, UNITY_NAME, is_fixation


class NwbInputs:
    def __init__(self, plan, out: Callable[[str], str], curated_name: str):
        self.plan, self.out, self.curated_name = plan, out, curated_name

    @staticmethod
    def _key(wc) -> tuple[str, str, str]:
        return (wc.subject, wc.day, wc.session)

    def header(self, wc) -> list[str]:
        """The recording's header (its time origin): the .ns5, else the .nev."""
        key = self._key(wc)
        return (self.plan.ns5(key) or self.plan.nev(key))[:1]

    def ns5_digest(self, wc) -> list[str]:
        """The split's record of the ``.ns5``'s SHA-256 (hippoflow.digests), for a session
        that is split: the job takes the digest from it and reads only the file's header."""
        s = self.plan.by_key[self._key(wc)]
        return [self.out(f"{s.rel}/{NS5_RECORD}")] if s.channels else []

    def channel_files(self, name: str) -> Callable:
        """Input function: file ``name`` of every channel of the session, in plan order."""

        def files(wc):
            return [
                self.out(f"{wc.subject}/{wc.day}/{wc.session}/array{a}/channel{c}/{name}")
                for a, c in self.plan.channels(self._key(wc))
            ]

        return files

    def sorts(self, wc) -> list[str]:
        """Per day-channel of the session: its curated sort, then its cells.tsv."""
        return [
            self.out(f"{wc.subject}/{wc.day}/sort/array{a}/channel{c}/{name}")
            for a, c in self.plan.channels(self._key(wc))
            for name in (self.curated_name, "cells.tsv")
        ]

    def fields(self, wc) -> list[str]:
        """Per day-channel of the session that has fields (rule fields), its fields.tsv."""
        day = (wc.subject, wc.day)
        return [
            self.out(f"{wc.subject}/{wc.day}/fields/array{a}/channel{c}/fields.tsv")
            for a, c in self.plan.channels(self._key(wc))
            if self.plan.field_sessions(day, a, c)
        ]

    def behaviour(self, wc) -> dict[str, list[str]]:
        """Aligned Unity and EyeLink objects, the day's EDFSplit and the raycast, as planned."""
        key = self._key(wc)
        sdir = f"{wc.subject}/{wc.day}/{wc.session}"
        files = {"unity": [], "eyelink": [], "edfsplit": [], "gaze": []}
        if key in {s.key for s in self.plan.unity_sessions()}:
            files["unity"] = [self.out(f"{sdir}/{UNITY_NAME}")]
        if key in {s.key for s in self.plan.eyelink_sessions()}:
            files["eyelink"] = [self.out(f"{sdir}/{EYELINK_NAME}")]
            if not is_fixation(wc.session):
                files["edfsplit"] = [self.out(self.plan.edfsplit_path(key[:2]))]
                files["gaze"] = [self.out(f"{sdir}/{GAZE_CSV_NAME}")]
        return files
