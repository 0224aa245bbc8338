"""DataProcessingTools (DPT) compatible object files.

DPT names each saved object ``<base>_<hash>.hkl`` where ``<hash>`` is the first four hex
digits of an MD5 over ``str(name)`` then ``str(value)`` of every argument, in argument
order.  The file is a hickle dump of a dict of the object's attributes, which must include
``args`` (dict of the arguments) and ``dirs`` (list of directories the object covers).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import h5py
import hickle
import numpy as np

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


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def save_object(path, data: Mapping, args: Mapping, dirs: list) -> None:
    """Write a DPT object atomically: a temporary file renamed into place on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    content = dict(data)
    content["args"] = dict(args)
    content["dirs"] = [str(d) for d in dirs]
    tmp = _tmp_path(path)
    try:
        hickle.dump(content, str(tmp), mode="w")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_object(path) -> dict:
    """Load a DPT object file as a dict."""
    obj = hickle.load(str(path))
    if not isinstance(obj, dict):
        from hippoflow.errors import InputError

        raise InputError(f"{path}: not a DPT object file (holds {type(obj).__name__})")
    return obj


def save_streamed_array(
    path,
    key: str,
    length: int,
    dtype,
    fill: Callable[[h5py.Dataset], None],
    data: Mapping,
    args: Mapping,
    dirs: list,
) -> None:
    """Write a DPT object whose array ``key`` is filled slice by slice (bounded memory).

    The object is first dumped by hickle with an empty placeholder array, then the
    placeholder's dataset is replaced by a full-length one (same hickle attributes) that
    ``fill(dataset)`` writes into.  The result loads with plain ``hickle.load``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    content = dict(data)
    content[key] = np.zeros(0, dtype=dtype)
    content["args"] = dict(args)
    content["dirs"] = [str(d) for d in dirs]
    tmp = _tmp_path(path)
    try:
        hickle.dump(content, str(tmp), mode="w")
        with h5py.File(tmp, "r+") as h5:
            name = f'data/"{key}"'
            attrs = dict(h5[name].attrs)
            del h5[name]
            chunk = min(max(length, 1), 1 << 18)
            dset = h5.create_dataset(name, shape=(length,), dtype=dtype, chunks=(chunk,))
            for attr, value in attrs.items():
                dset.attrs[attr] = value
            fill(dset)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
