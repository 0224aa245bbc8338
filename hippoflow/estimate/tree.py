"""What the raw tree's headers say: every neural session's length and channel count."""

from __future__ import annotations

from hippoflow.ripple import nsx


def session_lengths(plan, assume_seconds: float | None = None) -> dict:
    """(subject, day, session) -> (samples, rate, channels in the file) from the ``.ns5``
    headers (data-block headers give the samples; no sample data is read).
    ``assume_seconds``: a length to use instead of the headers' (header-only trees)."""
    out = {}
    for s in plan.neural_sessions():
        header = nsx.read_nsx_header(s.ns5[0])
        n = sum(b.n_samples for b in nsx.nsx_data_blocks(header))
        fs = header.sampling_rate
        if assume_seconds is not None:
            n = int(round(assume_seconds * fs))
        out[s.key] = (n, fs, len(header.channels))
    return out
