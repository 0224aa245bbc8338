"""The fields' pictures and day page: per cell its place map, its view map on the maze's
unfolded surfaces and its spike raster over trials; per day an HTML page of the significant
place and view cells (their pictures inline) and the table of every cell.

Inputs: a cell's results (:func:`hippoflow.fields.steps.cell_fields`), each navigation
session's Unity object and spike times; the day's ``fields.tsv`` tables. Outputs: PNG and
HTML files, written atomically.

The unfolded view map: the perimeter walls as a 160 x 8 strip (ring position left to right
from the corner (-12.5, -12.5) along x = -12.5, then z = +12.5, x = +12.5, z = -12.5; height
upwards), the four pillars' 32 x 5 rings (green, blue, red, yellow) below it, and the floor
and ceiling as 40 x 40 grids (x to the right, z upwards) at the bottom.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from hippoflow.atomic import atomic_output, write_text  # noqa: E402
from hippoflow.behaviour import maze  # noqa: E402

N = maze.GRID_N


def unfold_view(rate: np.ndarray) -> np.ndarray:
    """The 5122 view bins on one canvas (NaN between surfaces); see the module."""
    rate = np.asarray(rate, dtype=np.float64)
    walls = rate[maze.WALL0 - 1 : maze.PILLAR0 - 1].reshape(maze.WALL_LEVELS, maze.WALL_RING)
    width = maze.WALL_RING
    pil_rows = maze.PILLAR_LEVELS
    height = maze.WALL_LEVELS + 1 + pil_rows + 1 + N
    canvas = np.full((height, width), np.nan)
    canvas[: maze.WALL_LEVELS] = walls[::-1]  # height upwards: top row is the top level
    r0 = maze.WALL_LEVELS + 1
    for p in range(len(maze.PILLARS)):
        first = maze.PILLAR0 - 1 + p * maze.PILLAR_BINS
        ring = rate[first : first + maze.PILLAR_BINS].reshape(pil_rows, maze.PILLAR_RING)
        c0 = p * (maze.PILLAR_RING + 8)
        canvas[r0 : r0 + pil_rows, c0 : c0 + maze.PILLAR_RING] = ring[::-1]
    r1 = r0 + pil_rows + 1
    floor = rate[maze.FLOOR0 - 1 : maze.CEILING0 - 1].reshape(N, N)
    ceiling = rate[maze.CEILING0 - 1 : maze.WALL0 - 1].reshape(N, N)
    canvas[r1 : r1 + N, :N] = floor[::-1]  # z upwards
    canvas[r1 : r1 + N, N + 8 : 2 * N + 8] = ceiling[::-1]
    return canvas


def trial_rasters(sessions, spikes: dict) -> list[np.ndarray]:
    """Per navigation trial (every session, in order): spike times from cue offset to the end
    marker, relative to cue offset (s)."""
    out = []
    for s in sessions:
        t = np.sort(np.asarray(spikes.get(s.name, []), dtype=np.float64))
        for a, b in s.trials:
            out.append(t[(t >= a) & (t < b)] - a)
    return out


def cell_figure(result: dict, rasters: list, path, title: str = "") -> None:
    fig = plt.figure(figsize=(11, 3.4))
    grid = fig.add_gridspec(1, 3, width_ratios=[1, 2.2, 1.2])
    ax = fig.add_subplot(grid[0])
    place = result["place"]
    im = ax.imshow(place["rate"].reshape(N, N), origin="lower", cmap="viridis")
    fig.colorbar(im, ax=ax, fraction=0.046, label="Hz")
    ax.set_title(
        f"place {place['information']:.2f} bits/spike, p={place['p_value']:.3g}", fontsize=8
    )
    ax.set_xlabel("x bin")
    ax.set_ylabel("z bin")
    ax = fig.add_subplot(grid[1])
    view = result.get("view")
    if view is not None:
        im = ax.imshow(unfold_view(view["rate"]), cmap="viridis", aspect="equal")
        fig.colorbar(im, ax=ax, fraction=0.03, label="Hz")
        cue = view["rate"][maze.CUE_BIN - 1]
        ax.set_title(
            f"view {view['information']:.2f} bits/spike, p={view['p_value']:.3g} "
            f"(walls, pillars G B R Y, floor, ceiling; cue {cue:.1f} Hz)",
            fontsize=8,
        )
    else:
        ax.text(0.5, 0.5, "no gaze bins", ha="center", va="center")
    ax.set_axis_off()
    ax = fig.add_subplot(grid[2])
    if rasters:  # one call for every trial's ticks
        t = np.concatenate(rasters)
        y = np.repeat(np.arange(1, len(rasters) + 1), [len(r) for r in rasters])
        ax.vlines(t, y - 0.4, y + 0.4, color="k", linewidth=0.6)
    ax.set_xlabel("s from cue offset")
    ax.set_ylabel("trial")
    ax.set_ylim(0.5, max(len(rasters), 1) + 0.5)
    ax.set_title("spikes over trials", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.15, top=0.82, wspace=0.3)
    try:
        with atomic_output(path) as tmp:
            fig.savefig(tmp, dpi=80)
    finally:
        plt.close(fig)


def day_page(tables: list, out_path, title: str = "") -> None:
    """The day's page: significant place cells, significant view cells (with pictures), then
    every cell's numbers."""
    from hippoflow.fields.steps import TABLE_COLUMNS, read_table

    rows = []
    for t in tables:
        for r in read_table(t):
            r["figure"] = Path(t).parent / f"{r['cell']}.png"
            rows.append(r)

    def img(p: Path) -> str:
        if not p.exists():
            return ""
        data = base64.b64encode(p.read_bytes()).decode()
        return f'<img src="data:image/png;base64,{data}" style="max-width:100%">'

    def name(r) -> str:
        return f"array{r['array']}/channel{r['channel']}/{r['cell']}"

    parts = [f"<h1>{html.escape(title)}</h1>"]
    for kind in ("place", "view"):
        sig = [r for r in rows if r[f"{kind}_significant"] == "yes"]
        parts.append(f"<h2>Significant {kind} cells: {len(sig)} of {len(rows)}</h2>")
        for r in sig:
            parts.append(
                f"<h3>{html.escape(name(r))}: {float(r[f'{kind}_information']):.3f} bits/spike, "
                f"p = {r[f'{kind}_p']}, peak bin {r[f'{kind}_peak_bin']}</h3>{img(r['figure'])}"
            )
    parts.append("<h2>Every cell</h2><table border=1 cellspacing=0 cellpadding=2><tr>")
    parts.append("".join(f"<th>{c}</th>" for c in TABLE_COLUMNS) + "</tr>")
    for r in rows:
        parts.append("<tr>" + "".join(f"<td>{html.escape(r[c])}</td>" for c in TABLE_COLUMNS))
    parts.append("</table>")
    write_text(out_path, "<html><body>" + "\n".join(parts) + "</body></html>\n")
