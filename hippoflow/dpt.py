"""DataProcessingTools (DPT) compatible object files.

DPT names each saved object ``<base>_<hash>.hkl`` where ``<hash>`` is the first four hex
digits of an MD5 over ``str(name)`` then ``str(value)`` of every argument, in argument
order.  The file is a hickle dump of a dict of the object's attributes, which must include
``args`` (dict of the arguments) and ``dirs`` (list of directories the object covers).

DPT's ``processDirs`` combines the objects of many directories with ``append``, which extends
``setidx`` (offsetting the appended object's entries by the last entry + 1) and ``dirs``; the
object classes add their own fields (``numSets``, PyHipp's Spiketrain its ``spiketimes``
lists).  Every object therefore also carries :func:`bookkeeping`'s keys.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import h5py
import hickle
import numpy as np

from hippoflow.atomic import atomic_output, remove_leftovers, tmp_path

# PyHipp's default arguments, in PyHipp's argument order (the order enters the hash).
RAW_ARGS: dict = {}
LFP_ARGS: dict = {"ResampleRate": 1000, "LFPOrder": 8, "LowPassFrequency": [1, 150]}
HIGHPASS_ARGS: dict = {"HighOrder": 8, "HighPassFrequency": [500, 7500]}


def arg_hash(args: Mapping) -> str:
    """First 4 hex digits of DPT's MD5 over the arguments (``d41d`` for none)."""
    md5 = hashlib.md5()
    for name, value in args.items():
        md5.update(str(name).encode("utf-8"))
        md5.update(str(value).encode("utf-8"))
    return md5.hexdigest()[:4]


def hkl_name(base: str, args: Mapping) -> str:
    """DPT file name of an object, e.g. ``rpllfp_6eca.hkl``."""
    return f"{base}_{arg_hash(args)}.hkl"


def bookkeeping(level: str, n_items: int = 1) -> dict:
    """DPT's bookkeeping keys of one directory's object, to merge into its data.

    ``numSets`` 1 (one directory); ``setidx`` one 0 per item the object plots (one per
    channel object, cell, trial, ...), so that appending a second object gives its items the
    index 1; ``plotopts`` ``{"indexer": level}`` and ``current_idx`` None, as DPT's ``create``
    sets them.  (PyHipp's channel and cell objects left ``setidx`` empty, so an appended object
    had no index per directory; one entry per item is what DPT's level indexer reads.)
    """
    if n_items < 0:
        raise ValueError(f"n_items must be >= 0, not {n_items}")
    return {
        "numSets": 1,
        "setidx": [0] * int(n_items),
        "plotopts": {"indexer": str(level)},
        "current_idx": None,
    }


def save_object(path, data: Mapping, args: Mapping, dirs: list) -> None:
    """Write a DPT object atomically: a temporary file renamed into place on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    content = dict(data)
    content["args"] = dict(args)
    content["dirs"] = [str(d) for d in dirs]
    with atomic_output(path) as tmp:
        hickle.dump(content, str(tmp), mode="w")


def load_object(path) -> dict:
    """Load a DPT object file as a dict."""
    obj = hickle.load(str(path))
    if not isinstance(obj, dict):
        from hippoflow.errors import InputError

        raise InputError(f"{path}: not a DPT object file (holds {type(obj).__name__})")
    return obj


class StreamedObject:
    """A DPT object whose big array is written slice by slice (bounded memory).

    The object is first dumped by hickle with an empty placeholder for ``key``; the
    placeholder's dataset is then replaced by a full-length one carrying the same hickle
    attributes, which callers fill through ``dataset``.  ``commit()`` renames the temporary
    file into place; leaving the ``with`` block without commit removes it, so a failed job
    never leaves a complete-looking file.  The result loads with plain ``hickle.load``.
    """

    def __init__(
        self,
        path,
        key,
        length,
        dtype,
        data: Mapping,
        args: Mapping,
        dirs: list,
        chunk: int = 1 << 18,
        cache_bytes: int | None = None,
        filters: Mapping | None = None,
    ):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(self.path)
        self.tmp = tmp_path(self.path)
        content = dict(data)
        content[key] = np.zeros(0, dtype=dtype)
        content["args"] = dict(args)
        content["dirs"] = [str(d) for d in dirs]
        hickle.dump(content, str(self.tmp), mode="w")
        # cache_bytes=0 for writers that write whole chunks (many files open at once: HDF5's
        # default chunk cache would otherwise hold a few MB per file)
        kw = {} if cache_bytes is None else {"rdcc_nbytes": cache_bytes}
        self.h5 = h5py.File(self.tmp, "r+", **kw)
        name = f'data/"{key}"'
        attrs = dict(self.h5[name].attrs)
        del self.h5[name]
        chunk = min(max(length, 1), chunk)
        # filters: h5py's create_dataset filter options (shuffle, compression, scaleoffset)
        self.dataset = self.h5.create_dataset(
            name, shape=(length,), dtype=dtype, chunks=(chunk,), **dict(filters or {})
        )
        for attr, value in attrs.items():
            self.dataset.attrs[attr] = value
        self.committed = False

    def set_value(self, *keys: str, value) -> None:
        """Overwrite a scalar stored under nested dict keys, e.g. ('analogInfo', 'MaxVal')."""
        name = "data/" + "/".join(f'"{k}"' for k in keys)
        self.h5[name][()] = value

    def commit(self) -> None:
        self.h5.close()
        os.replace(self.tmp, self.path)
        self.committed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self.committed:
            try:
                self.h5.close()
            finally:
                self.tmp.unlink(missing_ok=True)
        return False


def save_streamed_array(path, key, length, dtype, fill: Callable, data, args, dirs) -> None:
    """Write a DPT object whose array ``key`` is filled by ``fill(dataset)``."""
    with StreamedObject(path, key, length, dtype, data, args, dirs) as obj:
        fill(obj.dataset)
        obj.commit()


def open_array(path, key: str = "data") -> h5py.Dataset:
    """The dataset of a DPT object's array, for slice-by-slice reading (caller closes .file)."""
    from hippoflow.errors import InputError

    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"{path}: not a readable HDF5/hickle file ({exc})") from exc
    name = f'data/"{key}"'
    if name not in h5:
        h5.close()
        raise InputError(f"{path}: DPT object has no '{key}' array")
    return h5[name]


def read_flat_dict(path, key: str) -> dict:
    """A flat dict of scalars and strings stored in a DPT object (without loading its arrays)."""
    out = {}
    with h5py.File(path, "r") as h5:
        group = h5[f'data/"{key}"']
        for name, item in group.items():
            value = item[()]
            if "str_type" in item.attrs:
                value = np.asarray(value).tobytes().decode("utf-8")
            elif isinstance(value, np.generic):
                value = value.item()
            out[name.strip('"')] = value
    return out
