"""Fields that failed on their data, and what the workflow does with them
(docs/design/failed-fields.md; the same mechanism as a failed sort's,
:mod:`hippoflow.sorting.outcome`).

When a day-channel's fields cannot be computed from its data (a session's samples could not
be made from its ``binData.hdf``, a cell's numbers fail), the ``fields`` job still ends
well: its ``fields.tsv`` has no row and a first line ``# failed: <cause>``
(:data:`FAILED_PREFIX`), and no cell file or picture. So the sessions' NWB files are still
written, that channel's field columns NaN and their notes saying so
(:func:`missing_note`). The failure is not hidden: the day's ``fields_day`` job fails naming
each failed day-channel and dates its ``fields.tsv`` 1970-01-01
(:func:`hippoflow.sorting.outcome.mark_for_redo`), so the next run redoes it. A session
whose samples failed has its ``fields_samples`` file marked alike (``failed`` attribute),
dated 1970 by each ``fields`` job that reads it.

Light on purpose (no numba, no SciPy): the NWB job imports it.
"""

from __future__ import annotations

from collections.abc import Mapping

#: the first line of a failed day-channel's fields.tsv: this, then the cause
FAILED_PREFIX = "# failed: "
#: how the NWB note about missing field columns begins
MISSING = "FIELDS MISSING"


def table_failure(path) -> str | None:
    """The cause of a failed fields.tsv, or None."""
    with open(path) as f:
        first = f.readline().rstrip("\n")
    return first[len(FAILED_PREFIX) :] if first.startswith(FAILED_PREFIX) else None


def missing_note(failed: Mapping[tuple[str, str], str]) -> str:
    """The NWB note of a file whose units of the day-channels in ``failed`` ((array,
    channel) -> cause) have no place and view values."""
    which = "; ".join(why for _, why in sorted(failed.items()))
    return (
        f"{MISSING}: no place/view information or p-values (NaN) for the units of "
        f"{len(failed)} channel(s) whose fields failed ({which}); the next run of the workflow "
        "redoes them and replaces this file"
    )


def fields_outcome(tables, subject: str, day: str, log) -> None:
    """Fail naming each failed day-channel of ``tables`` (after dating its table for redo);
    return quietly when none failed."""
    from hippoflow.sorting.outcome import mark_for_redo

    failed = []
    for t in tables:
        cause = table_failure(t)
        if cause:
            mark_for_redo(t)
            failed.append(cause)
    if failed:
        for line in failed:
            log.error("fields failed: %s", line)
        raise SystemExit(
            f"hippoflow: fields failed: {len(failed)} of {len(tables)} day-channel(s) of "
            f"{subject} {day}: " + "; ".join(failed) + " (the sessions' NWB files are written "
            "without their place/view values; the next run redoes these fields)"
        )
