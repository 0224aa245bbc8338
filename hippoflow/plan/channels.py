"""The electrodes of a session's .ns5 header and the config's channel selection.

Inputs: a session's .ns5 header (:mod:`hippoflow.ripple.nsx`) and the config's ``channels``.
Outputs: the session's (array, channel) pairs, and problems for a header that cannot be used
or a selected channel that no header of the day lists.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from hippoflow.errors import InputError
from hippoflow.ripple import nsx

if TYPE_CHECKING:
    from hippoflow.plan.discovery import Session

log = logging.getLogger(__name__)


def header_channels(ns5: Path, header: nsx.NsxHeader | None = None) -> list[tuple[str, str]]:
    """(array, channel) pairs of the electrodes of an .ns5 header, in file order.

    Channel: the electrode id, written with at least 3 digits (``001``, ``033``, ``1000``).

    Array: from the physical-connector byte of the electrodes, with PyHipp's directories as
    the reference. The rule: **a file in which any electrode is on connector 0 is 0-based
    and array = connector + 1** (the lab's Ripple files: channels 1-32 on connector 0 are
    ``array01``, 33-64 on connector 1 ``array02``, as PyHipp's ``connector_ID + 1`` made
    them); **otherwise the file is 1-based and array = connector** (Blackrock's numbering,
    bank A = 1 = ``array01``). neo reports the byte unchanged in every version, so this rule
    is applied here. Only electrodes decide: an analog input's connector does not.

    Channels that are not electrodes (analog inputs, units that are not a voltage: see
    :func:`hippoflow.ripple.nsx.non_electrode_reason`) are not returned (no job splits
    them) and are listed in one log line.
    """
    header = header or nsx.read_nsx_header(ns5)
    electrodes = header.electrodes()
    skipped = header.non_electrodes()
    if skipped:
        log.info(
            "%s: %d channel(s) not electrodes, not split: %s",
            ns5,
            len(skipped),
            nsx.describe_channels(skipped),
        )
    zero_based = any(ch.bank == 0 for ch in electrodes)
    if not zero_based and electrodes and _looks_ripple(header):
        log.warning(
            "%s: a Ripple-style file (analog inputs from id %d) with no electrode on "
            "connector 0: its connectors are taken as 1-based (array = connector; lowest "
            "connector %d)",
            ns5,
            nsx.ANALOG_INPUT_FIRST_ID,
            min(ch.bank for ch in electrodes),
        )
    shift = 1 if zero_based else 0
    return [(f"{ch.bank + shift:02d}", f"{ch.electrode_id:03d}") for ch in electrodes]


def _looks_ripple(header: nsx.NsxHeader) -> bool:
    """Ripple's NIP numbers analog inputs from 10241 (Blackrock right after its electrodes)."""
    return any(ch.electrode_id >= nsx.ANALOG_INPUT_FIRST_ID for ch in header.channels)


# Folder names that look like a day (8 digits with separators: 2018-11-06, 2018_11_06) or a


def session_channels(s: Session, selection) -> None:
    if len(s.ns5) > 1:
        names = ", ".join(p.name for p in s.ns5)
        s.problems["ns5_count"] = (
            f"{s.path}: expected exactly one .ns5 per session, found {len(s.ns5)}: {names}"
        )
        return
    try:
        header = nsx.read_nsx_header(s.ns5[0])
        available = header_channels(s.ns5[0], header)
    except InputError as exc:
        s.problems["ns5_header"] = str(exc)
        return
    except Exception as exc:  # noqa: BLE001 - no header content may stop planning
        s.problems["ns5_header"] = (
            f"{s.ns5[0]}: header cannot be read ({type(exc).__name__}: {exc})"
        )
        return
    s.ns5_version = header.version
    ids = [int(c) for _, c in available]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        s.problems["ns5_header"] = (
            f"{s.ns5[0]}: electrode id(s) {', '.join(map(str, twice))} listed more than once "
            "in the header: which column holds which electrode is ambiguous"
        )
        return
    s.available = available
    if selection in (None, "all"):
        s.channels = available
        return
    wanted = {int(n) for n in selection}
    s.channels = [(a, c) for a, c in available if int(c) in wanted]


def unknown_channels(day_sessions: list[Session], selection) -> None:
    """A requested channel in no session header of the day fails a job of its own.

    (A channel present in only some sessions is fine: those sessions provide it.)
    """
    if selection in (None, "all"):
        return
    with_header = [s for s in day_sessions if len(s.ns5) == 1 and not s.problems]
    if not with_header:
        return
    have = set()
    for s in with_header:
        have.update(int(c) for _, c in s.channels)
    available = set()
    for s in with_header:
        available.update(int(c) for _, c in s.available)
    for number in selection:
        if int(number) not in have:
            first = with_header[0]
            first.problems[f"channel{int(number):03d}"] = (
                f"{first.ns5[0]}: channel {number} from config 'channels' is in no .ns5 header "
                f"of {first.subject}/{first.day} (they list {len(available)} channels: "
                f"{_ranges(sorted(available))})"
            )


def _ranges(numbers: list[int]) -> str:
    if not numbers:
        return "none"
    parts, start, prev = [], numbers[0], numbers[0]
    for n in numbers[1:] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(f"{start}-{prev}" if prev != start else f"{start}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)
