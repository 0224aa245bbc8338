"""File-level QC steps, one per workflow rule (``scripts/qc_*.py`` only pass Snakemake's paths,
parameters and wildcards through).

- :func:`qc_sort`: a day-channel's sort object -> ``sort/arrayNN/channelNNN/qc_sort.png``.
- :func:`qc_metrics`: the day's sort objects -> ``sort/metrics.html`` and ``sort/metrics.tsv``.
- :func:`qc_trials`: a session's ``rplparallel_<h>.hkl`` -> ``qc_trials.png``.
- :func:`qc_lfp`: a session's ``rpllfp_<h>.hkl`` files -> ``qc_lfp_spectrum.png``.
- :func:`provenance`: the raw ``.ns5``/``.nev`` files, the split's digest records of the
  ``.ns5`` files and the config -> ``provenance.html``.
"""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path

from hippoflow import dpt
from hippoflow.qc import figures, tables
from hippoflow.qc.provenance import provenance_html
from hippoflow.sorting.outcome import FAILED

log_ = logging.getLogger("hippoflow")


def qc_sort(sort_path, out_path, subject, day, array, channel, log=None) -> None:
    """The day-channel's sort summary picture."""
    log = log or log_
    sort = dpt.load_object(sort_path)
    title = (
        f"{subject} {day} array{array} channel{channel}: {len(sort['cells'])} cells, "
        f"sessions {', '.join(sort['sessions'])}, noise {float(sort['noise_uv']):.1f} µV"
    )
    if sort.get(FAILED):  # the sorting failed on its data, redone at the next run
        title += f"\nSORT FAILED (redone at the next run): {str(sort[FAILED])[:150]}"
    figures.sort_summary(sort, out_path, title=title)
    log.info("wrote %s", out_path)


def qc_metrics(sort_paths, table_path, tsv_path, subject, day, log=None) -> None:
    """The day's per-cell quality metrics as an HTML table (and TSV)."""
    log = log or log_
    rows = []
    for path in sort_paths:
        sort = dpt.load_object(path)
        m = re.search(r"array(\d+)/channel(\d+)/", str(path))
        label = {"array": m.group(1), "channel": m.group(2)} if m else {"sort": str(path)}
        label["sessions"] = len(sort["sessions"])
        rows += tables.metrics_rows(sort, label)
    title = f"{subject} {day}: quality metrics of every cell"
    tables.write_table(rows, table_path, tsv_path, title=title)
    log.info("%d rows from %d sorts", len(rows), len(sort_paths))


def qc_trials(markers_path, out_path, subject, day, session, log=None) -> None:
    """The session's trials from its parallel-port markers."""
    log = log or log_
    obj = dpt.load_object(markers_path)
    figures.trial_timeline(
        obj["markers"],
        obj["timeStamps"],
        out_path,
        title=f"{subject} {day} {session}: trial timeline",
        session_start=obj.get("sessionStartTime"),
    )
    log.info("wrote %s", out_path)


def qc_lfp(lfp_paths, out_path, subject, day, session, log=None) -> None:
    """Power spectrum of every channel's LFP in the session."""
    log = log or log_
    channels = []
    for path in lfp_paths:
        obj = dpt.load_object(path)
        m = re.search(r"channel(\d+)", str(path))
        channels.append((f"ch{m.group(1)}", obj["data"], float(obj["analogInfo"]["SampleRate"])))
    figures.lfp_spectra(channels, out_path, title=f"{subject} {day} {session}: LFP spectra")
    log.info("%d channels", len(channels))


def git_version(repo) -> str:
    """``git describe --always --dirty`` of the workflow directory."""
    try:
        return subprocess.run(
            ["git", "-C", str(repo), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"


def provenance(
    raw_paths, out_path, config, digests, repo, log=None, notes=None, records=()
) -> list[dict]:
    """Parameters, package versions and raw-input digests of the run (``notes``: more
    name -> value lines, e.g. planning's problems and warnings; ``records``: the split's
    digest records of the .ns5 files, used instead of reading them)."""
    log = log or log_
    repo = Path(repo)
    rows = provenance_html(
        out_path,
        dict(config),
        list(raw_paths),
        digests=digests,
        extra={
            "workflow": str(repo),
            "workflow version (git)": git_version(repo),
            **(notes or {}),
        },
        records=list(records),
        log=log,
    )
    by = {src: sum(r["source"] == src for r in rows) for src in ("rplsplit", "provenance")}
    changed = sum(bool(r["problem"]) for r in rows)
    log.info(
        "%d raw inputs: %d digests from the split's records, %d hashed here%s",
        len(rows),
        by["rplsplit"],
        by["provenance"],
        f"; {changed} changed since their digest was taken (not shown)" if changed else "",
    )
    return rows
