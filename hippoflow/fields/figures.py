"""The fields' pictures and day page: per cell its place map, its view map on the maze's
unfolded surfaces and its spike raster over trials; per day an HTML page of the significant
place and view cells (their pictures inline) and the table of every cell.

Inputs: a cell's results (:func:`hippoflow.fields.steps.cell_fields`), each navigation
session's trials and spike times; the day's ``fields.tsv`` tables. Outputs: PNG and HTML
files, written atomically.

The cell's picture is drawn with Pillow (pixels, no matplotlib: a few milliseconds per cell
instead of about half a second plus matplotlib's import in every fields job): each map
coloured from 0 (dark blue) to its peak rate (yellow), a viridis-like scale interpolated
between five of viridis's colours; bins without a rate grey.

The unfolded view map: the perimeter walls as a 160 x 8 strip (ring position left to right
from the corner (-12.5, -12.5) along x = -12.5, then z = +12.5, x = +12.5, z = -12.5; height
upwards), the four pillars' 32 x 5 rings (green, blue, red, yellow) below it, and the floor
and ceiling as 40 x 40 grids (x to the right, z upwards) at the bottom.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

from hippoflow.atomic import atomic_output, write_text
from hippoflow.behaviour import maze

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


_STOPS = np.array(  # viridis at 0, 1/4, 1/2, 3/4, 1
    [
        [0x44, 0x01, 0x54],
        [0x3B, 0x52, 0x8B],
        [0x21, 0x91, 0x8C],
        [0x5E, 0xC9, 0x62],
        [0xFD, 0xE7, 0x25],
    ],
    dtype=np.float64,
)
_GREY = (200, 200, 200)


def colour(values: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 colours of ``values`` scaled from 0 to their maximum; NaN grey."""
    v = np.asarray(values, dtype=np.float64)
    top = np.nanmax(v) if np.any(np.isfinite(v)) else 0.0
    x = np.clip(np.nan_to_num(v / top if top > 0 else v * 0.0, nan=0.0), 0, 1) * 4
    i = np.minimum(x.astype(int), 3)
    f = (x - i)[..., None]
    rgb = _STOPS[i] * (1 - f) + _STOPS[i + 1] * f
    rgb[~np.isfinite(v)] = _GREY
    return rgb.astype(np.uint8)


def _map_image(values: np.ndarray, scale: int, outside=None):
    """The map's pixels, ``scale`` per bin; white where ``outside`` (no bin there)."""
    from PIL import Image

    rgb = colour(values)
    if outside is not None:
        rgb[outside] = 255
    rgb = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
    return Image.fromarray(np.ascontiguousarray(rgb), "RGB")


def cell_figure(result: dict, rasters: list, path, title: str = "") -> None:
    """The cell's picture: place map (x to the right, z upwards), view map unfolded, and its
    spikes over the trials (one row per trial, from cue offset)."""
    from PIL import Image, ImageDraw

    width, height, top = 1000, 290, 34
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text((8, 4), title, fill="black")
    place = result["place"]
    draw.text(
        (8, 18),
        f"place {place['information']:.2f} bits/spike, p={place['p_value']:.3g}, "
        f"0-{np.nanmax(place['rate']) if np.any(np.isfinite(place['rate'])) else 0:.1f} Hz",
        fill="black",
    )
    img.paste(_map_image(place["rate"].reshape(N, N)[::-1], 6), (8, top + 4))
    view = result.get("view")
    x0 = 8 + 6 * N + 20
    if view is not None:
        canvas = unfold_view(view["rate"])
        outside = np.isnan(unfold_view(np.zeros(maze.N_BINS)))
        img.paste(_map_image(canvas, 3, outside), (x0, top + 4))
        cue = view["rate"][maze.CUE_BIN - 1]
        cue = f"{cue:.1f} Hz" if np.isfinite(cue) else "not looked at"
        draw.text(
            (x0, 18),
            f"view {view['information']:.2f} bits/spike, p={view['p_value']:.3g}, "
            f"0-{np.nanmax(view['rate']) if np.any(np.isfinite(view['rate'])) else 0:.1f} Hz "
            f"(walls; pillars G B R Y; floor, ceiling; cue {cue})",
            fill="black",
        )
    else:
        draw.text((x0, 18), "view: no gaze bins", fill="black")
    rx0, rw, rh = x0 + 3 * maze.WALL_RING + 20, 190, 240
    draw.rectangle((rx0, top + 4, rx0 + rw, top + 4 + rh), outline="black")
    longest = max((float(r.max()) for r in rasters if r.size), default=1.0) or 1.0
    n = max(len(rasters), 1)
    ticks = np.full((rh - 1, rw - 1), 255, dtype=np.uint8)  # inside the frame
    for k, r in enumerate(rasters):  # trial 1 at the top: a tick per spike
        y0 = int(rh * k / n)
        y1 = max(y0 + 1, int(rh * (k + 1) / n))
        ticks[y0:y1, np.clip((r / longest * (rw - 2)).astype(int), 0, rw - 2)] = 0
    img.paste(Image.fromarray(ticks, "L").convert("RGB"), (rx0 + 1, top + 5))
    draw.text((rx0, 18), f"spikes, {len(rasters)} trials, 0-{longest:.1f} s", fill="black")
    with atomic_output(path) as tmp:
        img.save(tmp, format="PNG")


def day_page(tables: list, out_path, title: str = "") -> None:
    """The day's page: significant place cells, significant view cells (with pictures), then
    every cell's numbers."""
    from hippoflow.fields.steps import TABLE_COLUMNS, read_table

    rows = []
    for t in tables:
        for r in read_table(t):
            r["figure"] = Path(t).parent / "figures" / f"{r['cell']}.png"
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
