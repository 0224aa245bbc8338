"""File-level sorting steps, one per workflow rule (``scripts/sort.py``, ``scripts/export_cells.py``
only pass Snakemake's paths and parameters through).

:func:`sort`: inputs, the day-channel's high-pass files of each session (in
:func:`~hippoflow.naming.session_order`) and the sorting parameters; output, the DPT object
``<day>/sort/arrayNN/channelNNN/mountainsort_<h>.hkl``.

:func:`export_cells`: input, that sort object and each session's channel directory; outputs,
``<session>/arrayNN/channelNNN/cellNN/spiketrain.csv`` and ``spiketrain_d41d.hkl`` of every
cell and session, and the listing ``cells.tsv`` (session, cell, spike count, directory).
"""

from __future__ import annotations

import logging
from pathlib import Path

from threadpoolctl import threadpool_limits

from hippoflow import dpt
from hippoflow.atomic import write_text
from hippoflow.logs import Progress
from hippoflow.sorting.cells import write_cells
from hippoflow.sorting.sort import sort_day_channel

log_ = logging.getLogger("hippoflow")


def sort(highpass, sessions, args, out_path, threads: int = 1, log=None) -> None:
    """Sort one day-channel: ``highpass[i]`` is session ``sessions[i]``'s high-pass file."""
    log = log or log_
    out = Path(out_path)
    sources = list(zip(sessions, highpass, strict=True))
    with threadpool_limits(limits=threads):  # BLAS/OpenMP: the job's threads only
        result = sort_day_channel(
            sources,
            dict(args),
            workdir=out.parent,
            log=log,
            progress=Progress(log, "concatenate"),
        )
    log.info(
        "%d cells kept (%d units dropped by curation), %d spikes",
        len(result["cells"]),
        len(result["dropped_units"]),
        len(result["spike_times"]),
    )
    dpt.save_object(out, result, args, [out.parent.resolve()])


def export_cells(sort_path, channel_dirs, out_path, log=None) -> None:
    """Write the sort's cells into each session's channel directory and list them in ``out_path``."""
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
