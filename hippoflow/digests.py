"""SHA-256 digests of raw files taken by the step that reads them anyway, and their records.

The split (``rplsplit``) reads every sample byte of a session's ``.ns5``; :class:`HashingReader`
hashes the bytes as that step reads them, in file order, and reads itself only the bytes the
step skips (the file header and each data block's packet header: a few kB), so the digest is
``hashlib.sha256`` of the whole file without a second read from shared storage.  The step
writes a :func:`write_record` JSON (path as given, size, mtime_ns, sha256) beside the
session's outputs (:data:`NS5_RECORD`, in the output tree in every mode); the provenance page
reads it back and refuses its digest when the file's size or mtime no longer match
(:func:`record_problem`: the raw file changed after the split read it).

An output tree made before the split wrote records gets them from :func:`backfill`
(``python -m hippoflow.digests --data-root ... --output-root ...``: one read of each .ns5),
else the next run re-splits every session for its missing record.  After raw files got new
modification times with the same content, :func:`refresh` (``--refresh``) records the new
times (planning otherwise re-reads such a file at every run to compare its content).

Inputs: an open binary file (the reader), a record path. Outputs: records (small JSON files,
written atomically); the reader raises :class:`InputError` when the file changes while read.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from hippoflow.atomic import write_text
from hippoflow.errors import InputError

#: the record of the session's .ns5 digest, beside its outputs (no PyHipp/DPT name starts so)
NS5_RECORD = "hippoflow_digest_ns5.json"
ALGORITHM = "sha256"
#: the records of the other raw files, each written by the step that reads the file, beside
#: its output: the session's .nev (rplparallel), its Unity log (unity), and an EyeLink file
#: (edfsplit in the day folder for the navigation file, eyelink in sessioneye for the
#: fixation file); compared with the files at planning (hippoflow.plan.stale)
NEV_RECORD = "hippoflow_digest_nev.json"
UNITY_RECORD = "hippoflow_digest_unity.json"
EYELINK_RECORD = "hippoflow_digest_eyelink.json"
_GAP_CHUNK = 1 << 22  # bytes per read when filling a skipped stretch (or the tail)


class HashingReader:
    """A binary file read through ``seek``/``readinto``/``tell`` whose bytes are hashed.

    Bytes are hashed once each, in file order: a read that starts past the bytes hashed so
    far first hashes the stretch in between (read here with ``os.pread``, the file position
    untouched), a read over bytes already hashed hashes only its new part.
    :meth:`finish` hashes what is left up to the end of the file.  ``extra_bytes`` counts the
    bytes read only for the digest (the skipped stretches and the tail).
    """

    def __init__(self, f, path=None):
        self.f = f
        self.path = path if path is not None else getattr(f, "name", "?")
        self._fd = f.fileno()
        self._stat = os.fstat(self._fd)
        self._hash = hashlib.sha256()
        self._pos = f.tell()
        self.hashed = 0  # the file's first `hashed` bytes are in the digest
        self.extra_bytes = 0

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        self._pos = self.f.seek(pos, whence)
        return self._pos

    def readinto(self, buf) -> int:
        view = memoryview(buf).cast("B")
        if self._pos > self.hashed:
            self._fill(self._pos)
        got = self.f.readinto(view) or 0
        end = self._pos + got
        if end > self.hashed:
            self._hash.update(view[self.hashed - self._pos : got])
            self.hashed = end
        self._pos = end
        return got

    def read(self, n: int) -> bytes:
        buf = bytearray(n)
        got = self.readinto(buf)
        return bytes(buf[:got])

    def _fill(self, upto: int) -> None:
        while self.hashed < upto:
            block = os.pread(self._fd, min(_GAP_CHUNK, upto - self.hashed), self.hashed)
            if not block:
                raise InputError(f"{self.path}: file ended at byte {self.hashed} while hashed")
            self._hash.update(block)
            self.hashed += len(block)
            self.extra_bytes += len(block)

    def finish(self) -> dict:
        """Hash the rest of the file; the record (path, size, mtime_ns, sha256) of the file
        as it was opened.  Raises :class:`InputError` when the file changed while read."""
        self._fill(os.fstat(self._fd).st_size)
        now = os.fstat(self._fd)
        before = (self._stat.st_size, self._stat.st_mtime_ns)
        if (now.st_size, now.st_mtime_ns) != before or self.hashed != now.st_size:
            raise InputError(
                f"{self.path}: changed while it was read (size {before[0]} -> {now.st_size} "
                f"bytes, mtime_ns {before[1]} -> {now.st_mtime_ns}): its outputs and digest "
                "would mix two versions of the file; run again once it is no longer written"
            )
        return {
            "path": str(self.path),
            "size": int(now.st_size),
            "mtime_ns": int(now.st_mtime_ns),
            ALGORITHM: self._hash.hexdigest(),
        }


def sha256_file(path, chunk: int = _GAP_CHUNK) -> str:
    """SHA-256 of a whole file, read here (for files no step reads whole)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def record_file(path, dest) -> dict:
    """Hash a raw file whole (one read, :class:`HashingReader`: an error if it changes while
    read) and write its record at ``dest``; the step that read the file calls this once its
    output is written.  Returns the record."""
    with open(path, "rb", buffering=0) as f:
        record = HashingReader(f, path).finish()
    record["path"] = str(path)
    write_record(dest, record)
    return record


def write_record(path, record: dict) -> None:
    """Write a digest record atomically (one JSON object, keys sorted, newline-terminated)."""
    write_text(Path(path), json.dumps(record, sort_keys=True) + "\n")


def read_record(path) -> dict:
    """A digest record; :class:`InputError` naming the file when it is not one."""
    try:
        rec = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable digest record ({exc})") from exc
    missing = [k for k in ("path", "size", "mtime_ns", ALGORITHM) if k not in rec]
    if not isinstance(rec, dict) or missing:
        raise InputError(f"{path}: digest record without {', '.join(missing)}")
    return rec


def record_problem(record: dict) -> str | None:
    """Why a record's digest is not the digest of its file as it is now (the file changed,
    or is gone, since the digest was taken), or None when size and mtime still match."""
    path = record["path"]
    try:
        st = os.stat(path)
    except OSError as exc:
        return f"cannot be read now ({exc.strerror or exc}); the digest was of the file then"
    then = (int(record["size"]), int(record["mtime_ns"]))
    now = (st.st_size, st.st_mtime_ns)
    if now == then:
        return None
    return (
        f"changed after its digest was taken: it was {then[0]} bytes with mtime_ns {then[1]}, "
        f"it is {now[0]} bytes with mtime_ns {now[1]}; the recorded digest is not this file's "
        "(rerun the step that read it: delete its outputs or touch the file)"
    )


# ---------------------------------------------------------------- output trees made before
def backfill(data_root, output_root, log=print) -> list[Path]:
    """Write the .ns5 records an output tree made before the split wrote them lacks.

    Without a record Snakemake would re-split the session (a missing output) and so rerun
    everything made from its split files.  A record is written (the .ns5 hashed here, one
    read) only for a session whose output folder holds split or LFP files all newer than its
    .ns5 (an older one is re-split by Snakemake anyway, which then writes the record).
    Returns the records written."""
    from hippoflow.plan.discovery import discover

    written = []
    for s in discover(data_root):
        if not s.channels:  # not split: its .ns5 is hashed by the provenance job
            continue
        ns5, where = s.ns5[0], Path(output_root) / s.rel
        dest = where / NS5_RECORD
        made = [
            p for p in where.glob("array*/channel*/*") if p.name.startswith(("rplraw_", "rpllfp_"))
        ]
        st = ns5.stat()
        if dest.exists() or not made or min(p.stat().st_mtime_ns for p in made) < st.st_mtime_ns:
            continue
        with open(ns5, "rb", buffering=0) as f:
            reader = HashingReader(f, ns5)
            record = reader.finish()
        record["path"] = str(ns5)
        write_record(dest, record)
        log(f"{dest}: {record[ALGORITHM]} ({record['size']} bytes)")
        written.append(dest)
    return written


def refresh(data_root, output_root, log=print) -> list[Path]:
    """Bring up to date the records of raw files (``.ns5``, ``.nev``, Unity logs, EyeLink
    files) whose modification time changed but whose content did not (a tree restored or
    copied with new times): the file is hashed (one read) and, when its SHA-256 is the
    record's, the record gets the file's size and time, keeping its own modification time
    (nothing made from it is redone).  A file whose content differs is named and left to
    the run (a planning problem that says how to redo its outputs).  Returns the records
    rewritten."""
    from hippoflow.plan.discovery import discover

    days = sorted({Path(output_root) / s.subject / s.day for s in discover(data_root)})
    done = []
    for day in days:
        for dest in sorted(
            [*day.glob("hippoflow_digest_*.json"), *day.glob("*/hippoflow_digest_*.json")]
        ):
            record = read_record(dest)
            raw = Path(record["path"])
            try:
                st = raw.stat()
            except OSError:
                continue
            if (int(record["size"]), int(record["mtime_ns"])) == (st.st_size, st.st_mtime_ns):
                continue
            digest = sha256_file(raw) if st.st_size == int(record["size"]) else None
            if digest != record[ALGORITHM]:
                log(
                    f"{raw}: content differs from its record {dest}: not refreshed (run the "
                    "workflow: it says how to redo the outputs made from it)"
                )
                continue
            own = dest.stat()
            write_record(dest, {**record, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
            os.utime(dest, ns=(own.st_atime_ns, own.st_mtime_ns))
            log(f"{dest}: same content ({digest[:12]}...), new time of {raw.name} recorded")
            done.append(dest)
    return done


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(
        prog="python -m hippoflow.digests",
        description="Write the split's .ns5 digest records missing from an output tree made "
        "before the split wrote them (else the next run re-splits every session).",
    )
    ap.add_argument("--data-root", required=True, help="config data_root")
    ap.add_argument("--output-root", required=True, help="config output_root")
    ap.add_argument(
        "--refresh",
        action="store_true",
        help="instead: record the new modification time of each raw file (.ns5, .nev, Unity "
        "log, EyeLink file) whose content is its record's (a tree restored or copied with new "
        "times)",
    )
    a = ap.parse_args(argv)
    try:
        if a.refresh:
            print(f"{len(refresh(a.data_root, a.output_root))} record(s) refreshed")
            return 0
        n = len(backfill(a.data_root, a.output_root))
    except InputError as exc:
        print(f"hippoflow.digests: {exc}", file=sys.stderr)
        return 2
    print(f"{n} record(s) written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
