"""export_cells: split a day-channel's sorted units back into per-session cellNN/ trains."""

from hippoflow import dpt
from hippoflow.atomic import write_text
from hippoflow.logs import run_job
from hippoflow.sorting import sort as sorting


def main(sm, log):
    sort = dpt.load_object(sm.input.sort)
    dirs = dict(sm.params.channel_dirs)
    missing = set(sort["sessions"]) - set(dirs)
    if missing:
        raise ValueError(f"{sm.input.sort}: sessions {sorted(missing)} have no channel directory")
    rows = sorting.write_cells(sort, dirs, log=log)
    lines = ["session\tcell\tn_spikes\tdirectory"]
    lines += [f"{r['session']}\tcell{r['cell']:02d}\t{r['n_spikes']}\t{r['dir']}" for r in rows]
    write_text(sm.output[0], "\n".join(lines) + "\n")
    log.info("%d cells x %d sessions written", len(sort["cells"]), len(sort["sessions"]))


run_job(main, snakemake)  # noqa: F821
