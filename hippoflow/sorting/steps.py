"""File-level sorting steps, one per workflow rule (``scripts/sort.py``, ``scripts/curate.py``,
``scripts/export_cells.py``, ``scripts/waveform_templates.py`` only pass Snakemake's paths and
parameters through).

:func:`sort`: inputs, the day-channel's high-pass files of each session (in
:func:`~hippoflow.naming.session_order`), the sorter's parameters and its time limit; output,
the DPT object ``<day>/sort/arrayNN/channelNNN/mountainsort_<h>.hkl`` holding every unit the
sorter found.  A sorter that runs past its limit or ends with an error of its own gives an
object with no unit and ``failed``, the cause (:mod:`hippoflow.sorting.outcome`); a sorter
killed by a signal ends the job with ``hippoflow: sort failed: <day-channel>: ...``.

:func:`curate`: input, that sort object and the curation parameters; output, the DPT object
``<day>/sort/arrayNN/channelNNN/curated_<h>.hkl`` (merges, satellites, thresholds, cells).

:func:`export_cells`: input, the curated object and each session's channel directory; outputs,
``<session>/arrayNN/channelNNN/cellNN/spiketrain.csv`` and ``spiketrain_d41d.hkl`` of every
cell and session, and the listing ``cells.tsv`` (session, cell, spike count, directory).

:func:`waveform_templates`: input, the curated object; output, PyHipp's Waveform input
``<day>/mountains/channelNNN/output/templates.hkl`` (1 x samples x cells, float32).
"""

from __future__ import annotations

import logging
from pathlib import Path

from threadpoolctl import threadpool_limits

from hippoflow import dpt
from hippoflow.atomic import write_text
from hippoflow.logs import Progress
from hippoflow.sorting.cells import write_cells, write_templates
from hippoflow.sorting.curate import curate as curate_sort
from hippoflow.sorting.outcome import FAILED, mark_for_redo
from hippoflow.sorting.runner import DEFAULT_SORTER, SorterError
from hippoflow.sorting.sort import sort_day_channel

log_ = logging.getLogger("hippoflow")


def sort(
    highpass,
    sessions,
    args,
    out_path,
    threads: int = 1,
    log=None,
    limits: dict | None = None,
    label: str = "",
    sorter: str = DEFAULT_SORTER,
    scratch_dir=None,
    left_out: dict | None = None,
) -> None:
    """Sort one day-channel: ``highpass[i]`` is session ``sessions[i]``'s high-pass file.

    ``args``: the sorter's parameters; ``limits``: ``time_limit_factor``/``time_limit_min_s``
    (defaults from the schema); ``label`` names the day-channel in messages;
    ``scratch_dir``: node-local directory for the sort's temporary copies (None = $TMPDIR);
    ``left_out``: the day's sessions the sort goes without and why
    (:meth:`hippoflow.plan.Plan.sort_left_out`), logged as warnings and kept in the object as
    ``sessions_left_out``.
    """
    log = log or log_
    out = Path(out_path)
    sources = list(zip(sessions, highpass, strict=True))
    label = label or str(out.parent)
    left_out = {str(k): str(v) for k, v in dict(left_out or {}).items()}
    for session, reason in left_out.items():
        log.warning("%s: session %s left out of the sort: %s", label, session, reason)
    try:
        with threadpool_limits(limits=threads):  # BLAS/OpenMP: the job's threads only
            result = sort_day_channel(
                sources,
                {**dict(args), **dict(limits or {})},
                workdir=scratch_dir,
                log=log,
                progress=Progress(log, "concatenate"),
                label=label,
                sorter=sorter,
                threads=threads,
            )
    except SorterError as exc:
        log.error("sort failed: %s", exc)
        raise SystemExit(f"hippoflow: sort failed: {exc}") from None
    if result.get(FAILED):
        log.warning(  # the cause starts with the day-channel's label
            "%s: the sort failed, the day-channel gets no cells in this run (the sessions' NWB "
            "files are written without its units; the next run redoes the sort)",
            result[FAILED],
        )
    elif len(result["unit_ids"]) == 0:
        log.warning(
            "%s: the sorter found no units in %.1f s of data (noise %.1f uV): the day-channel "
            "gets no cells",
            label,
            float(sum(result["session_samples"])) / float(result["sampling_rate"]),
            float(result["noise_uv"]),
        )
    log.info(
        "%d units, %d spikes (sorter %.1f s, limit %.0f s)",
        len(result["unit_ids"]),
        len(result["spike_times"]),
        result["sorter_seconds"],
        result["time_limit_s"],
    )
    result["sessions_left_out"] = left_out
    dpt.save_object(out, result, dict(args), [out.parent.resolve()])


def curate(sort_path, args, out_path, log=None) -> None:
    """Curate a day-channel's sort: merges, satellites, thresholds, cell numbers."""
    log = log or log_
    out = Path(out_path)
    sort = dpt.load_object(sort_path)
    result = curate_sort(sort, dict(args), log=log)
    result["sort_file"] = str(sort_path)
    result["sessions_left_out"] = dict(sort.get("sessions_left_out") or {})
    if sort.get(FAILED):
        # Snakemake touched the failed sort at the end of its job: dated now, it would pass
        # as done at the next run
        result[FAILED] = str(sort[FAILED])
        mark_for_redo(sort_path)
        log.warning("%s: the sort failed (%s): no cells", sort_path, sort[FAILED])
    log.info(
        "%d cells kept of %d units (%d dropped or merged), %d spikes",
        len(result["cells"]),
        len(result["units"]["unit_ids"]),
        len(result["units"]["unit_ids"]) - len(result["cells"]),
        len(result["spike_times"]),
    )
    dpt.save_object(out, result, dict(args), [out.parent.resolve()])


def export_cells(sort_path, channel_dirs, out_path, log=None) -> None:
    """Write the curated sort's cells into each session's channel directory; list them in
    ``out_path``."""
    log = log or log_
    sort = dpt.load_object(sort_path)
    dirs = dict(channel_dirs)
    missing = set(sort["sessions"]) - set(dirs)
    if missing:
        raise ValueError(f"{sort_path}: sessions {sorted(missing)} have no channel directory")
    rows = write_cells(sort, dirs, log=log)
    lines = ["session\tcell\tn_spikes\tdirectory"]
    lines += [f"{r['session']}\tcell{r['cell']:02d}\t{r['n_spikes']}\t{r['dir']}" for r in rows]
    write_text(out_path, "\n".join(lines) + "\n")
    log.info("%d cells x %d sessions written", len(sort["cells"]), len(sort["sessions"]))


def waveform_templates(sort_path, out_path, log=None) -> None:
    """Write the curated sort's templates where PyHipp's Waveform reads them."""
    log = log or log_
    arr = write_templates(dpt.load_object(sort_path), out_path)
    log.info("%s: templates of %d cells, %d samples each", out_path, arr.shape[2], arr.shape[1])
