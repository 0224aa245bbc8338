"""Compare the final outputs of two runs of the workflow written under different output roots.

Every HDF5 file (hickle objects ``*.hkl``, ``binData.hdf``, NWB files) is read with h5py,
independently of the workflow's own loaders: the same groups, datasets, dtypes, values and
attributes. Text files (csv, tsv, html) are compared as text and figures as bytes. The only
allowed difference is the output root itself, which objects record in ``dirs`` (absolute
paths): each tree's root is replaced by ``<root>`` before comparing, and so is a node-local
directory given as an alias (the sort records the paths of the high-pass files it read, which
in node-local mode lie there). Left out: the run's provenance page and summary (dates,
command line, config), the sorter's own wall time (``sorter_seconds``), an NWB file's
creation date, identifier, provenance record and object ids (random UUIDs), and the intermediates (split and high-pass).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

INTERMEDIATES = ("rplraw_", "rplhighpass_")
#: per-run records, not results: the provenance page holds the run's time and config
NOT_RESULTS = ("provenance.html", "hippoflow_summary.txt")
#: members that time or stamp the run rather than hold a result: the sorter's wall time; an
#: NWB file's creation date, its unique identifier and its provenance (the run's config)
TIMINGS = ('"sorter_seconds"', "file_create_date", "identifier", "hippoflow_provenance")
HDF5 = (".hkl", ".hdf", ".nwb")


def final_files(root: Path) -> list[str]:
    """Relative paths of the final outputs under root (intermediates excluded)."""
    return sorted(
        str(p.relative_to(root))
        for p in Path(root).rglob("*")
        if p.is_file() and not p.name.startswith(INTERMEDIATES) and p.name not in NOT_RESULTS
    )


def intermediate_files(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in Path(root).rglob("*")
        if p.is_file() and p.name.startswith(INTERMEDIATES)
    )


def _norm(value, root):
    roots = (root,) if isinstance(root, str) else root
    if isinstance(value, bytes):
        for r in roots:
            value = value.replace(r.encode(), b"<root>")
        return value
    if isinstance(value, str):
        for r in roots:
            value = value.replace(r, "<root>")
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "SUO":
        return [_norm(v, root) for v in value.ravel().tolist()]
    return value


def _equal(a, b) -> bool:
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _hdf5_items(path: Path, root) -> dict:
    """Every group, dataset and attribute of an HDF5 file as {name: normalised value}."""
    items = {}
    with h5py.File(path, "r") as f:

        def attr(val):
            # hickle 5 names each object's type by a reference into its type table: compare
            # what the reference points at
            if isinstance(val, h5py.Reference):
                target = f[val]
                val = target[()] if isinstance(target, h5py.Dataset) else target.name
                if isinstance(val, np.ndarray) and val.dtype.kind == "V":
                    val = val.tobytes()
                elif isinstance(val, np.void):
                    val = val.tobytes()
            return _norm(val, root)

        for key, val in f.attrs.items():
            if key != "object_id":
                items[f"/@{key}"] = attr(val)

        def visit(name, obj):
            for key, val in obj.attrs.items():
                if key != "object_id":  # NWB: a random UUID per object and write
                    items[f"{name}@{key}"] = attr(val)
            if name.rsplit("/", 1)[-1] in TIMINGS:
                items[name] = "timing"
            elif isinstance(obj, h5py.Dataset):
                data = obj[()]
                if isinstance(data, h5py.Empty):
                    data = "empty"
                elif obj.dtype == "S1":  # hickle stores text as an array of characters
                    data = b"".join(np.asarray(data).ravel().tolist())
                elif obj.dtype.kind == "O" and h5py.check_ref_dtype(obj.dtype):
                    data = [attr(r) for r in np.asarray(data).ravel()]
                # (a text's length is its shape: compared through the text itself)
                shape = None if obj.dtype == "S1" else obj.shape
                items[name] = (str(obj.dtype), shape, _norm(data, root))
            else:
                items[name] = "group"

        f.visititems(visit)
    return items


def differences(ref_root: Path, other_root: Path, other_aliases=()) -> list[str]:
    """What differs between the final outputs of two trees (empty: identical).

    ``other_aliases``: directories that stand for other_root's root (node-local dir)."""
    ref_root, other_root = Path(ref_root), Path(other_root)
    ref, other = final_files(ref_root), final_files(other_root)
    diffs = [f"only in {ref_root}: {p}" for p in sorted(set(ref) - set(other))]
    diffs += [f"only in {other_root}: {p}" for p in sorted(set(other) - set(ref))]
    ra = str(ref_root.resolve())
    rb = (str(other_root.resolve()), *(str(Path(d).resolve()) for d in other_aliases))
    for rel in sorted(set(ref) & set(other)):
        a, b = ref_root / rel, other_root / rel
        if a.suffix in HDF5:
            ia, ib = _hdf5_items(a, ra), _hdf5_items(b, rb)
            if set(ia) != set(ib):
                diffs.append(f"{rel}: members differ: {sorted(set(ia) ^ set(ib))[:5]}")
                continue
            for name in ia:
                va, vb = ia[name], ib[name]
                if isinstance(va, tuple) and isinstance(vb, tuple):
                    same = va[:2] == vb[:2] and _equal(va[2], vb[2])
                else:
                    same = _equal(va, vb)
                if not same:
                    diffs.append(f"{rel}: {name} differs")
        elif a.suffix in (".csv", ".tsv", ".html", ".txt"):
            if _norm(a.read_text(), ra) != _norm(b.read_text(), rb):
                diffs.append(f"{rel}: text differs")
        elif a.read_bytes() != b.read_bytes():
            diffs.append(f"{rel}: bytes differ")
    return diffs
