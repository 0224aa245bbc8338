"""The fields rules' steps: every cell's place and view maps, information and significance.

Rule ``fields_samples`` (per navigation session). Inputs: the aligned Unity object,
``binData.hdf`` and the aligned EyeLink object (its ``samplingRate``). Output
``<day>/fields/samples/<session>.h5``: the session's place and view samples
(:class:`hippoflow.fields.maps.Samples`, moving samples only), Umaze's session rows and the
trials' cue-offset and end times, read by every channel's ``fields`` job.

Rule ``fields`` (per day-channel). Inputs: the curated sort (spike times and cells) and each
navigation session's samples file. Outputs, per cell:

- in each navigation session's ``cellNN/``: PyHipp's ``vmplacecell_<hash>.hkl``
  (``placebins``: spikes per place bin, a (1600, 1) column, PyHipp's VMPlaceCell rule on
  Umaze's session rows, no speed or occupancy rule), with DPT's bookkeeping keys, so DPT's
  ``append`` and the lab's ``VMPlot`` read it;
- ``<day>/fields/arrayNN/channelNNN/cellNN.h5``: groups ``place`` and ``view`` with the
  pooled (all navigation sessions) ``counts``, ``occupancy`` (s), smoothed ``rate`` (Hz),
  ``information`` (bits/spike), ``null_p95``/``null_p99``, ``p_value``, ``significant``,
  ``peak_bin`` (the lab's 1-based bin id; 0 for none), ``peak_rate``, ``field_size`` (bins),
  and per session ``sessions/<name>/<kind>``: ``counts``, ``occupancy`` and that session's
  own ``information``, ``p_value`` (against its own shifts) and ``significant``; the
  parameters as attributes;
- ``figures/cellNN.png`` beside it: place map, view map, spike raster over trials (each a
  report item);
- the day-channel listing ``fields.tsv`` (one row per cell: the numbers above, and each
  session's p-values as ``session01=0.001;session02=0.2``).

Rule ``fields_day``: the day's ``fields/cells.tsv`` (every day-channel's rows) and
``fields/fields.html``, the report's page of the significant place and view cells.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hippoflow import dpt
from hippoflow.atomic import atomic_output, write_text
from hippoflow.errors import InputError
from hippoflow.fields import information as info
from hippoflow.fields import maps, outcome

log_ = logging.getLogger("hippoflow.fields")

VMPLACECELL_ARGS: dict = {"GridSteps": 40, "OverallGridSize": 25}  # PyHipp's, in its order
VMPLACECELL_NAME = dpt.hkl_name("vmplacecell", VMPLACECELL_ARGS)

TABLE_COLUMNS = (
    "array",
    "channel",
    "cell",
    "n_spikes",
    "place_information",
    "place_p",
    "place_significant",
    "place_peak_bin",
    "place_peak_rate",
    "place_field_size",
    "view_information",
    "view_p",
    "view_significant",
    "view_peak_bin",
    "view_peak_rate",
    "view_field_size",
    "place_p_sessions",
    "view_p_sessions",
)


@dataclass
class Params:
    min_speed: float = 1.0
    smoothing_sigma: float = 1.0
    min_occupancy: float = 0.05
    shuffles: int = 1000
    min_shift: float = 10.0
    alpha: float = 0.01
    seed: int = 0

    @classmethod
    def from_config(cls, section: dict) -> Params:
        return cls(**{k: section[k] for k in cls.__dataclass_fields__ if k in section})


@dataclass
class Session:
    """One navigation session's behaviour: place and view samples, the shift span (s),
    Umaze's session rows (``times``, ``places``: PyHipp's placebins) and each trial's cue
    offset and end times (the rasters)."""

    name: str
    place: maps.Samples
    view: maps.Samples | None
    span: tuple[float, float]
    times: np.ndarray
    places: np.ndarray
    trials: np.ndarray

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """The joint 1 ms grid of the shifts (:func:`maps.joint_grid`), kept for the next
        cell."""
        if "_grid" not in self.__dict__:
            self.__dict__["_grid"] = maps.joint_grid(self.place, self.view, *self.span)
        return self.__dict__["_grid"]


def make_session(name, unity, bindata_values, sampling_rate, min_speed) -> Session:
    utime = np.asarray(unity["unityTime"][0], dtype=np.float64)
    trig = np.asarray(unity["unityTriggers"][0], dtype=np.int64).reshape(-1, 3)
    view = None
    if bindata_values is not None:
        view = maps.view_samples(bindata_values, unity, sampling_rate, min_speed)
    times, places = maps.umaze_session_time(unity)
    return Session(
        name,
        maps.place_samples(unity, min_speed),
        view,
        (float(utime[0]), float(utime[-1])),
        times,
        places,
        np.column_stack([utime[trig[:, 1] + 1], utime[trig[:, 2] + 1]]),
    )


_SAMPLE_KEYS = ("start", "end", "ptr", "bins", "weights")


def write_session(path, session: Session, min_speed: float) -> None:
    """Rule ``fields_samples``'s file: a session's :class:`Session` (HDF5)."""
    import h5py

    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["name"] = session.name
            f.attrs["span"] = np.asarray(session.span)
            f.attrs["min_speed"] = float(min_speed)
            for k in ("times", "places", "trials"):
                f.create_dataset(k, data=getattr(session, k))
            for kind in ("place", "view"):
                smp = getattr(session, kind)
                if smp is None:
                    continue
                g = f.create_group(kind)
                g.attrs["n_bins"] = smp.n_bins
                for k in _SAMPLE_KEYS:
                    v = getattr(smp, k)
                    g.create_dataset(k, data=v.astype(np.int16) if k == "bins" else v)


def read_session(path, min_speed: float | None = None) -> Session:
    import h5py

    with h5py.File(path, "r") as f:
        failed = str(f.attrs["failed"]) if "failed" in f.attrs else None
    if failed:  # the session's samples failed: redo them at the next run
        from hippoflow.sorting.outcome import mark_for_redo

        mark_for_redo(path)
        raise InputError(failed)
    with h5py.File(path, "r") as f:
        if min_speed is not None and float(f.attrs["min_speed"]) != float(min_speed):
            raise InputError(
                f"{path}: made with fields.min_speed {f.attrs['min_speed']}, not {min_speed}"
            )
        kinds = {}
        for kind in ("place", "view"):
            if kind not in f:
                kinds[kind] = None
                continue
            g = f[kind]
            d = {k: g[k][()] for k in _SAMPLE_KEYS}
            d["bins"] = d["bins"].astype(np.int64)
            kinds[kind] = maps.Samples(**d, n_bins=int(g.attrs["n_bins"]))
        span = tuple(float(v) for v in f.attrs["span"])
        return Session(
            str(f.attrs["name"]),
            kinds["place"],
            kinds["view"],
            span,
            f["times"][()],
            f["places"][()],
            f["trials"][()],
        )


def fields_samples(unity_path, bindata_path, eyelink_path, out_path, name, min_speed) -> None:
    """Rule ``fields_samples``: a navigation session's place and view samples, once for
    every channel's ``fields`` job."""
    unity = dpt.load_object(unity_path)
    values, rate = None, 1000.0
    if bindata_path:
        values = _load_bindata(bindata_path)
        eye = dpt.load_object(eyelink_path)
        rate = float(np.ravel(eye.get("samplingRate", 1000.0))[0])
    try:
        session = make_session(name, unity, values, rate, min_speed)
    except (InputError, ValueError) as exc:  # e.g. binData rows out of time order
        # a failed samples file, so that the day's NWB files are still written
        # (hippoflow.fields.outcome); the fields jobs reading it fail softly in turn
        cause = f"{bindata_path or unity_path}: {exc}"
        log_.error("fields samples failed: %s", cause)
        write_failed_session(out_path, name, cause)
        return
    write_session(out_path, session, min_speed)


def write_failed_session(path, name: str, cause: str) -> None:
    import h5py

    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["name"] = name
            f.attrs["failed"] = cause


def _smooth(kind):
    return maps.smooth_place if kind == "place" else maps.smooth_view


def _summarise(kind, counts, occupancy, null_smoothed, params: Params) -> dict:
    """A map's results; ``null_smoothed``: the shifts' smoothed counts (S, n_bins)."""
    smooth = _smooth(kind)
    occ_s = smooth(occupancy, params.smoothing_sigma)
    mask = occupancy >= max(params.min_occupancy, 1e-12)
    rate = np.where(mask, maps.rate_map(smooth(counts, params.smoothing_sigma), occ_s, 0.0), np.nan)
    used = np.flatnonzero(mask)  # the null's information over the bins with a rate only
    observed = float(info.skaggs_information(rate[used], occupancy[used]))
    null = info.skaggs_information(null_smoothed[:, used] / occ_s[used], occupancy[used])
    p = info.p_value(observed, null)
    peak = info.peak_bin(rate)
    return {
        "counts": counts,
        "occupancy": occupancy,
        "rate": rate,
        "information": observed,
        "null_p95": float(np.percentile(null, 95)) if null.size else np.nan,
        "null_p99": float(np.percentile(null, 99)) if null.size else np.nan,
        "p_value": p,
        "significant": bool(p <= params.alpha and counts.sum() > 0),
        "peak_bin": peak + 1,
        "peak_rate": float(rate[peak]) if peak >= 0 else 0.0,
        "field_size": info.field_size(rate, kind),
    }


SESSION_KEYS = ("counts", "occupancy", "information", "p_value", "significant")


def cell_fields(sessions: list[Session], spikes: dict, params: Params, rng) -> dict:
    """Place and view results of one cell, pooled over ``sessions`` and per session (each
    with its own null: the same shifts); ``spikes`` {session: times in s}."""
    kinds = ["place"] + (["view"] if all(s.view is not None for s in sessions) else [])
    out = {"sessions": {}, "place": None, "view": None}
    pooled = {}
    for s in sessions:
        samples = {k: getattr(s, k) for k in kinds}
        t = np.asarray(spikes.get(s.name, []), dtype=np.float64)
        t = t[(t >= s.span[0]) & (t < s.span[1])]
        # the null on a 1 ms grid: spikes at whole-millisecond shifts in [min_shift,
        # T - min_shift], min_shift at most a quarter of the session
        grid = s.grid()
        n_cells = grid[0].shape[0]
        cells = np.floor((t - s.span[0]) / maps.GRID_STEP_S).astype(np.int64)
        lo = int(round(min(params.min_shift, (s.span[1] - s.span[0]) / 4) / maps.GRID_STEP_S))
        shifts = rng.integers(lo, max(n_cells - lo, lo + 1), size=params.shuffles)
        null = dict(
            zip(
                ("place", "view"),
                maps.shifted_counts(grid, "view" in kinds, cells, shifts),
                strict=True,
            )
        )
        per = {}
        for kind in kinds:
            c, o = samples[kind].counts(t), samples[kind].occupancy()
            ns = _smooth(kind)(null[kind], params.smoothing_sigma)
            per[kind] = _summarise(kind, c, o, ns, params)
            if kind in pooled:
                pc, po, pn = pooled[kind]
                pooled[kind] = (pc + c, po + o, pn + ns)
            else:
                pooled[kind] = (c, o, ns)
        out["sessions"][s.name] = {k: {q: r[q] for q in SESSION_KEYS} for k, r in per.items()}
        if len(sessions) == 1:
            out.update(per)
    if len(sessions) != 1:
        for kind in pooled:
            out[kind] = _summarise(kind, *pooled[kind], params)
    return out


def cell_seed(params: Params, day: str, channel: str, cell: int) -> list[int]:
    """The shifts' seed: the config's seed with the cell's day, channel and number."""
    return [int(params.seed), zlib.crc32(f"{day}/{channel}".encode()), int(cell)]


# ---- files -------------------------------------------------------------------------------


def write_vmplacecell(path, placebins: np.ndarray) -> None:
    obj = {"placebins": np.asarray(placebins, dtype=np.int64).reshape(-1, 1)}
    obj.update(dpt.bookkeeping("cell"))
    path = Path(path)
    dpt.save_object(path, obj, VMPLACECELL_ARGS, [path.parent.resolve()])


def write_cell_file(path, result: dict, params: Params, meta: dict) -> None:
    import h5py

    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w") as f:
            for k, v in vars(params).items():
                f.attrs[k] = v
            for k, v in meta.items():
                f.attrs[k] = v
            f.attrs["kernel"] = "gaussian, sigma smoothing_sigma bins, truncated at 3 sigma"
            for kind in ("place", "view"):
                r = result[kind]
                if r is None:
                    continue
                g = f.create_group(kind)
                for k, v in r.items():
                    if isinstance(v, np.ndarray):
                        g.create_dataset(k, data=v, compression="gzip")
                    else:
                        g.attrs[k] = v
            for name, per in result["sessions"].items():
                for kind, d in per.items():
                    g = f.require_group(f"sessions/{name}/{kind}")
                    for k, v in d.items():
                        if isinstance(v, np.ndarray):
                            g.create_dataset(k, data=v, compression="gzip")
                        else:
                            g.attrs[k] = v


def read_cell_file(path) -> dict:
    import h5py

    out = {}
    with h5py.File(path, "r") as f:
        out["params"] = dict(f.attrs)
        for kind in ("place", "view"):
            if kind in f:
                g = f[kind]
                d = {k: g[k][()] for k in g}
                d.update(dict(g.attrs))
                out[kind] = d
            else:
                out[kind] = None
    return out


def table_row(array, channel, cell, n_spikes, result) -> dict:
    row = {"array": array, "channel": channel, "cell": f"cell{int(cell):02d}"}
    row["n_spikes"] = int(n_spikes)
    for kind in ("place", "view"):
        r = result[kind]
        for k in ("information", "p_value", "significant", "peak_bin", "peak_rate", "field_size"):
            col = f"{kind}_{'p' if k == 'p_value' else k}"
            row[col] = "" if r is None else r[k]
        # each session's own p-value: session01=0.001;session02=0.2
        row[f"{kind}_p_sessions"] = ";".join(
            f"{name}={_fmt(per[kind]['p_value'])}"
            for name, per in result["sessions"].items()
            if per.get(kind) is not None
        )
    return row


def session_p_values(cell: str) -> dict[str, float]:
    """{session: p} of a table's ``place_p_sessions`` / ``view_p_sessions`` cell."""
    return {k: float(v) for k, v in (x.split("=") for x in cell.split(";") if x)}


def _fmt(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def write_table(path, rows: list[dict], failed: str | None = None) -> None:
    """The day-channel's table; a failed one (``failed``: the cause) starts with
    ``# failed: <cause>`` and has no row (:mod:`hippoflow.fields.outcome`)."""
    lines = [f"{outcome.FAILED_PREFIX}{failed}"] if failed else []
    lines += ["\t".join(TABLE_COLUMNS)]
    lines += ["\t".join(_fmt(r[c]) for c in TABLE_COLUMNS) for r in rows]
    write_text(path, "\n".join(lines) + "\n")


def read_table(path) -> list[dict]:
    lines = [x for x in Path(path).read_text().splitlines() if not x.startswith("#")]
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"), strict=True)) for line in lines[1:] if line]


def _load_bindata(path):
    import h5py

    with h5py.File(path, "r") as f:
        return f["values"][()]


def fields(
    curated_path,
    sessions: dict,
    channel_dirs: dict,
    cell_dir,
    table_path,
    params: Params,
    day: str,
    array: str,
    channel: str,
    figures_dir=None,
    log=None,
    subject: str = "",
) -> None:
    """Rule ``fields``: ``sessions`` {name: its ``fields_samples`` file}.
    Writes each cell's ``cellNN.h5`` beside ``table_path`` (after removing those of cells
    the curated sort no longer has) and its picture ``cellNN.png`` in ``figures_dir``
    (:mod:`hippoflow.fields.figures`; none when ``figures_dir`` is None). When the data
    fail (a session's failed samples, an error computing a cell), the table says so and
    has no row, and no file of the channel's cells is left (:mod:`hippoflow.fields.outcome`)."""
    from hippoflow.sorting.cells import cell_trains

    log = log or log_
    sort = dpt.load_object(curated_path)
    cells, per_session = cell_trains(sort)
    trains = dict(zip(sort["sessions"], per_session, strict=True))
    cell_dir = Path(cell_dir)
    cell_dir.mkdir(parents=True, exist_ok=True)
    if figures_dir is not None:
        Path(figures_dir).mkdir(parents=True, exist_ok=True)
    keep = {f"cell{c:02d}" for c in cells}
    for old in cell_dir.glob("cell*.h5"):
        if old.stem not in keep:
            old.unlink()
    try:  # the data's part: a failure here fails softly (hippoflow.fields.outcome)
        behaviour = []
        for name, path in sessions.items():
            if name not in trains:
                log.info("%s: not in the sort (left out): no fields from it", name)
                continue
            behaviour.append(read_session(path, params.min_speed))
        results = {}
        for c in cells:
            spikes = {s.name: trains[s.name][c] / 1000.0 for s in behaviour}
            rng = np.random.default_rng(cell_seed(params, day, channel, c))
            results[c] = (spikes, cell_fields(behaviour, spikes, params, rng))
    except (InputError, ValueError, FloatingPointError) as exc:
        cause = f"{subject} {day} array{array} channel{channel}: {exc}".strip()
        log.error("fields failed: %s", cause)
        for c in cells:  # nothing of this channel's cells looks complete
            (cell_dir / f"cell{c:02d}.h5").unlink(missing_ok=True)
            for d in channel_dirs.values():
                (Path(d) / f"cell{c:02d}" / VMPLACECELL_NAME).unlink(missing_ok=True)
        write_table(table_path, [], failed=cause)
        return
    rows = []
    for c, (spikes, result) in results.items():
        for s in behaviour:
            d = Path(channel_dirs[s.name]) / f"cell{c:02d}"
            write_vmplacecell(
                d / VMPLACECELL_NAME, maps.placebins(s.times, s.places, spikes[s.name])
            )
        meta = {"day": day, "array": array, "channel": channel, "cell": c}
        meta["sessions"] = ",".join(s.name for s in behaviour)
        write_cell_file(cell_dir / f"cell{c:02d}.h5", result, params, meta)
        if figures_dir is not None:
            from hippoflow.fields.figures import cell_figure, trial_rasters

            cell_figure(
                result,
                trial_rasters(behaviour, spikes),
                Path(figures_dir) / f"cell{c:02d}.png",
                f"{day} array{array} channel{channel} cell{c:02d}",
            )
        n = sum(int(np.size(v)) for v in spikes.values())
        rows.append(table_row(array, channel, c, n, result))
        p, v = result["place"], result["view"]
        log.info(
            "cell%02d: %d spikes; place %.3f bits/spike p=%.4f%s",
            c,
            n,
            p["information"],
            p["p_value"],
            "" if v is None else f"; view {v['information']:.3f} bits/spike p={v['p_value']:.4f}",
        )
    write_table(table_path, rows)


def fields_day(tables: list, out_path, page_path=None, title="", subject="", day="", log=None):
    """Rule ``fields_day``: every day-channel's rows in one table (and the day's page); fails
    naming each day-channel whose fields failed (:func:`outcome.fields_outcome`)."""
    outcome.fields_outcome(tables, subject, day, log or log_)
    rows = [r for t in tables for r in read_table(t)]
    lines = ["\t".join(TABLE_COLUMNS)]
    lines += ["\t".join(r[c] for c in TABLE_COLUMNS) for r in rows]
    write_text(out_path, "\n".join(lines) + "\n")
    if page_path:
        from hippoflow.fields.figures import day_page

        day_page(tables, page_path, title)
