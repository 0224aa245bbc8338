"""DataProcessingTools' loader and base append, restated for the tests from their documented
behaviour (never imported from DPT): the loader sets every key of a file as an attribute; the
base ``append`` extends ``setidx`` by the appended object's entries offset by (last entry + 1)
and extends ``dirs``. Class-specific appends (Spiketrain, Eyelink) extend it in their tests."""

from __future__ import annotations

import hickle


class DPTLike:
    @staticmethod
    def load(path) -> dict:
        return hickle.load(str(path))  # as DPT's loader does

    def __init__(self, path):
        for key, value in self.load(path).items():
            setattr(self, key, value)

    def append(self, other):
        if self.setidx:
            offset = self.setidx[-1] + 1
            self.setidx = list(self.setidx) + [s + offset for s in other.setidx]
        if self.dirs:
            self.dirs = list(self.dirs) + list(other.dirs)
