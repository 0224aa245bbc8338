"""Raw files of the tree, checked from their metadata: which are recordings at all, which can
be read, the .nev's file spec, a day's EyeLink files.

Inputs: paths in the raw tree (nothing but metadata, a .nev's first 10 bytes and directory
listings are read).  Outputs: problem messages keyed for their problem targets, the files
that can be used, and the files that are not recordings (hidden files, duplicate downloads),
which are ignored with a warning naming them (:func:`not_recordings`).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from hippoflow.ripple.nev import NEV_ID

EYE_SUFFIXES = (".edf", ".asc")
FIXATION_FILE_PREFIX = "P"  # PyHipp's CalibFileNameChar: P<n>_<m>.edf is the fixation session
# a second download or copy of a file, named by the browser or file manager that made it:
# "181105 (1).asc" (browsers, Windows), "181105 copy.asc", "181105 copy 2.asc" (macOS
# Finder), "181105 - Copy.asc" (Windows Explorer)
DUPLICATE_NAME = re.compile(
    r"(?P<stem>.+?)(?: \(\d+\)| copy(?: \d+)?| - Copy(?: \(\d+\))?)(?P<ext>\.[^.]+)"
)


def file_problem(path) -> str | None:
    """Why a raw file cannot be read (a dangling symlink, not a regular file, no read
    permission), or None.  Reads nothing but the file's metadata (a FIFO is never opened)."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return f"dangling symbolic link (to {os.readlink(path)}, which does not exist)"
        return "does not exist"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(st.st_mode):
        kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"))
        kind = next((k for test, k in kinds if test(st.st_mode)), "a special file")
        return f"not a regular file ({kind})"
    if not os.access(path, os.R_OK):
        return "not readable (permission denied)"
    return None


def file_key(prefix: str, path: Path) -> str:
    """A problem key naming a file (it becomes part of a file name)."""
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9._-]', '_', path.name)}"


def readable(paths: list[Path], prefix: str, problems: dict[str, str]) -> list[Path]:
    """The paths that are readable regular files; each other one becomes a problem."""
    good = []
    for p in paths:
        why = file_problem(p)
        if why is None:
            good.append(p)
        else:
            problems[file_key(prefix, p)] = f"{p}: {why}"
    return good


def nev_version(path) -> tuple[int, int] | None:
    """File spec of a .nev from its first 10 bytes; None when it does not start NEURALEV
    (the rplparallel job then says what the file is)."""
    with open(path, "rb") as f:
        head = f.read(10)
    if len(head) < 10 or not head.startswith(NEV_ID):
        return None
    return head[8], head[9]


def not_recordings(paths, ignored: dict[Path, str] | None = None) -> list[Path]:
    """``paths`` without the files that are not recordings, each of which goes to ``ignored``
    (path -> why):

    - a hidden file (name starting with ``.``): no recording system writes one; a macOS
      AppleDouble file ``._<name>`` (made when a tree is copied through an exFAT, FAT or SMB
      disk) holds the Finder's metadata of ``<name>``, not its data;
    - a duplicate download or copy (``<name> (1).<ext>``, ``<name> copy.<ext>``,
      ``<name> - Copy.<ext>``) beside ``<name>.<ext>`` of the same size: a second copy of
      the same file.  Of a different size it is not obviously a copy and is kept (the
      caller's one-file check then names both).

    Only metadata is read (sizes), never content."""
    kept = []
    for p in map(Path, paths):
        why = _not_recording(p)
        if why is None:
            kept.append(p)
        elif ignored is not None:
            ignored[p] = why
    return kept


def _not_recording(p: Path) -> str | None:
    if p.name.startswith("._"):
        return f"a macOS metadata file (AppleDouble) of {p.name[2:]}, not a recording"
    if p.name.startswith("."):
        return "a hidden file, not a recording"
    m = DUPLICATE_NAME.fullmatch(p.name)
    if m is None:
        return None
    original = p.with_name(m["stem"] + m["ext"])
    try:
        if original.stat().st_size != p.stat().st_size:
            return None
    except OSError:  # no such original, or unreadable: not an obvious copy
        return None
    return f"a duplicate of {original.name} (same name with {p.name[len(m['stem']) : -len(m['ext'])].strip()!r}, same size)"


def ignored_warnings(ignored: dict[Path, str]) -> list[str]:
    """One warning line per folder for the files :func:`not_recordings` left out."""
    by_folder: dict[Path, list[str]] = {}
    for p, why in sorted(ignored.items()):
        by_folder.setdefault(p.parent, []).append(f"{p.name} ({why})")
    return [
        f"{folder}: {len(names)} file(s) ignored: " + "; ".join(names)
        for folder, names in by_folder.items()
    ]


def eyelink_files(day_dir, ignored: dict[Path, str] | None = None) -> tuple[list[Path], list[Path]]:
    """(navigation files, fixation files) of a day: ``*.edf``/``*.asc`` in the day folder,
    fixation files being those whose name starts with ``P`` (PyHipp's CalibFileNameChar).
    When both an ``.edf`` and its ``.asc`` export exist, the ``.edf`` is used.  Files that
    are not recordings (:func:`not_recordings`) go to ``ignored``."""
    day_dir = Path(day_dir)
    if not day_dir.is_dir():
        return [], []
    files = sorted(p for p in day_dir.iterdir() if p.is_file() and p.suffix.lower() in EYE_SUFFIXES)
    files = not_recordings(files, ignored)
    stems = {p.stem for p in files if p.suffix.lower() == ".edf"}
    files = [p for p in files if p.suffix.lower() == ".edf" or p.stem not in stems]
    fixation = [p for p in files if p.name.startswith(FIXATION_FILE_PREFIX)]
    navigation = [p for p in files if not p.name.startswith(FIXATION_FILE_PREFIX)]
    return navigation, fixation


def eye_entries(day_dir: Path) -> list[Path]:
    """Every entry of a day folder named like an EyeLink file (also dangling symlinks), but
    those that are not recordings."""
    try:
        entries = sorted(p for p in day_dir.iterdir() if p.suffix.lower() in EYE_SUFFIXES)
    except OSError:
        return []
    return not_recordings(entries)
