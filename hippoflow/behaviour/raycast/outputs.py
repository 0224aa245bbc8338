"""The raycast rule's two files.

Inputs: per-sample times, gaze, pose and flags (and the distinct bins of
:func:`hippoflow.behaviour.raycast.kernels.cast_distinct`). Outputs: ``binData.hdf``
(:func:`write_bindata`) and ``unityfile_eyelink.csv`` (:func:`write_unityfile_eyelink`,
columns ``CSV_COLUMNS``), each written to a temporary file, then renamed.
"""

from __future__ import annotations

import numpy as np

from hippoflow.atomic import atomic_output
from hippoflow.behaviour.raycast.bins import object_names
from hippoflow.behaviour.raycast.kernels import hit_points


def write_bindata(path, times, bins_distinct) -> None:
    """Write ``binData.hdf``: dataset ``values`` (float64), one row per sample,
    ``[time, bin ids...]`` zero padded. Written to a temporary file, then renamed."""
    import h5py

    times = np.asarray(times, dtype=np.float64).reshape(-1)
    bins_distinct = np.asarray(bins_distinct)
    if bins_distinct.ndim == 1:
        bins_distinct = bins_distinct[:, None]
    if bins_distinct.shape[0] != times.shape[0]:
        raise ValueError(
            f"write_bindata: {times.shape[0]} times but {bins_distinct.shape[0]} bin rows"
        )
    n = times.shape[0]
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w") as f:
            ds = f.create_dataset(
                "values",
                shape=(n, 1 + bins_distinct.shape[1]),
                dtype=np.float64,
                chunks=(min(max(n, 1), 65536), 1 + bins_distinct.shape[1]),
                compression="gzip",
                compression_opts=1,
                shuffle=True,
            )
            step = 250_000
            for s in range(0, n, step):
                e = min(s + step, n)
                block = np.empty((e - s, ds.shape[1]))
                block[:, 0] = times[s:e]
                block[:, 1:] = bins_distinct[s:e]
                ds[s:e] = block


CSV_COLUMNS = (
    "type",
    "time",
    "object",
    "gx",
    "gy",
    "pos_x",
    "pos_z",
    "yaw",
    "hit_x",
    "hit_y",
    "hit_z",
)


def write_unityfile_eyelink(path, table: dict) -> None:
    """Write ``unityfile_eyelink.csv``, one row per sample, columns ``CSV_COLUMNS``.

    ``table`` holds per-sample arrays: ``time``, ``gx``, ``gy``, ``x``, ``z``, ``yaw``;
    optionally ``bin`` (central-ray bin id) and ``hit`` ((n, 3) hit point) — both are
    computed with :func:`hit_points` when absent (passing ``ignore``, ``cue_on``,
    ``hint_on`` from the table if present); optionally ``type`` (str or per-sample
    strings, default ``"SAMPLE"``) and ``ignore`` (bool: the object column then reads
    ``ignored``). The hit object is the bin's
    :func:`~hippoflow.behaviour.raycast.bins.object_name`; NaN is written as an empty
    field. Written to a temporary file, then renamed.
    """
    missing = [k for k in ("time", "gx", "gy", "x", "z", "yaw") if k not in table]
    if missing:
        raise ValueError(f"write_unityfile_eyelink: table lacks {missing}")
    t = np.asarray(table["time"], dtype=np.float64).reshape(-1)
    n = t.shape[0]
    cols = {
        k: np.asarray(table[k], dtype=np.float64).reshape(-1) for k in ("gx", "gy", "x", "z", "yaw")
    }
    for k, v in cols.items():
        if v.shape[0] != n:
            raise ValueError(
                f"write_unityfile_eyelink: column {k} has {v.shape[0]} rows, time has {n}"
            )
    ignore = table.get("ignore")
    if "bin" in table and "hit" in table:
        bins = np.asarray(table["bin"]).reshape(-1).astype(np.int64)
        hit = np.asarray(table["hit"], dtype=np.float64).reshape(n, 3)
    else:
        bins, hit = hit_points(
            cols["gx"],
            cols["gy"],
            cols["x"],
            cols["z"],
            cols["yaw"],
            ignore=ignore,
            cue_on=table.get("cue_on"),
            hint_on=table.get("hint_on"),
        )
    names = object_names(bins)
    if ignore is not None:
        names = np.where(np.asarray(ignore, dtype=bool).reshape(-1), "ignored", names)
    types = np.broadcast_to(np.asarray(table.get("type", "SAMPLE"), dtype=object), (n,))
    if any("nan" in str(v).lower() for v in np.unique(types.astype(str))):
        raise ValueError("write_unityfile_eyelink: a row type may not contain 'nan'")

    row_fmt = "%s,%.4f,%s,%.2f,%.2f,%.4f,%.4f,%.3f,%.4f,%.4f,%.4f"
    with atomic_output(path) as tmp:
        with open(tmp, "w", newline="") as f:
            f.write(",".join(CSV_COLUMNS) + "\n")
            step = 100_000
            for s in range(0, n, step):
                e = min(s + step, n)
                cols_se = (
                    types[s:e].tolist(),
                    t[s:e].tolist(),
                    names[s:e].tolist(),
                    cols["gx"][s:e].tolist(),
                    cols["gy"][s:e].tolist(),
                    cols["x"][s:e].tolist(),
                    cols["z"][s:e].tolist(),
                    cols["yaw"][s:e].tolist(),
                    hit[s:e, 0].tolist(),
                    hit[s:e, 1].tolist(),
                    hit[s:e, 2].tolist(),
                )
                text = "\n".join([row_fmt % r for r in zip(*cols_se, strict=True)])
                # NaN prints as "nan": leave the field empty (no name or type contains "nan")
                f.write(text.replace("nan", ""))
                f.write("\n")
