"""EyeLink file sniffing and the one entry point that reads any EyeLink recording.

Inputs: a file path, whatever its extension.  Outputs: :func:`sniff` gives the kind of
file by content; :func:`read_recording` gives a
:class:`~hippoflow.behaviour.eyelink.recording.Recording` by dispatching on that kind:

* SR Research binary ``.edf`` (starts with ``SR_RESEARCH``):
  :func:`hippoflow.behaviour.eyelink.edf.read_edf`;
* EyeLink ASCII ``.asc`` (``edf2asc`` text: ``**``, ``MSG``, ``START`` ... lines):
  :func:`hippoflow.behaviour.eyelink.asc.read_asc`;
* European Data Format files (start with ``0`` and seven spaces; confirmed with pyedflib)
  are not EyeLink recordings and are rejected with a message saying so, as is anything
  else (:class:`~hippoflow.errors.InputError` naming the file).
"""

from __future__ import annotations

import re
from pathlib import Path

from hippoflow.behaviour.eyelink.asc import read_asc
from hippoflow.behaviour.eyelink.edf import read_edf
from hippoflow.behaviour.eyelink.recording import Recording
from hippoflow.errors import InputError


def sniff(path) -> str:
    """The kind of file by content: 'eyelink-edf', 'eyelink-asc' or 'european-edf'.

    Anything else raises InputError naming the file and showing its first bytes.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise InputError(f"{path}: empty file, not an EyeLink recording")
    if head.startswith(b"SR_RESEARCH"):
        return "eyelink-edf"
    if head.startswith(b"0       "):
        try:
            import pyedflib

            reader = pyedflib.EdfReader(str(path))
            reader.close()
        except Exception as exc:  # noqa: BLE001 - any pyedflib failure means "not readable"
            raise InputError(
                f"{path}: starts like a European Data Format (EDF) file but pyedflib cannot "
                f"read it ({exc}); it is not an EyeLink recording either"
            ) from None
        return "european-edf"
    if b"\x00" not in head:
        text = head.decode("latin-1")
        for line in text.splitlines()[:5000]:
            if re.match(r"^(\*\*|MSG\s|START\s|END\s|SAMPLES\s|EVENTS\s|SFIX\s|EFIX\s)", line):
                return "eyelink-asc"
    raise InputError(
        f"{path}: not an EyeLink recording (a binary .edf starts with b'SR_RESEARCH', an "
        f".asc is edf2asc text with '**', MSG and START lines); its first bytes are "
        f"{head[:24]!r}"
    )


def read_recording(path, *, isolate: bool = True, eye: str = "left") -> Recording:
    """Read an EyeLink recording, deciding the format by content (not by extension).

    ``isolate`` runs the SR Research library in a child process so that a corrupt .edf that
    crashes it gives an InputError instead of killing the caller.  ``eye`` (``left``, as
    PyHipp, or ``right``) is the eye whose gaze and events are kept where a block records
    both; a block recording one eye gives that eye (warned, and in ``Recording.notes``).
    """
    kind = sniff(path)
    if kind == "eyelink-edf":
        return read_edf(Path(path), isolate=isolate, eye=eye)
    if kind == "eyelink-asc":
        return read_asc(Path(path), eye=eye)
    labels = _european_labels(path)
    raise InputError(
        f"{path}: is a European Data Format (EDF/EDF+) file (signals: {labels}), not an "
        f"EyeLink recording; EyeLink .edf files start with 'SR_RESEARCH'. Supply the eye "
        f"tracker's own .edf (or its edf2asc .asc export)"
    )


def _european_labels(path) -> str:
    try:
        import pyedflib

        reader = pyedflib.EdfReader(str(path))
        try:
            labels = reader.getSignalLabels()
        finally:
            reader.close()
        return ", ".join(labels) if labels else "none"
    except Exception:  # noqa: BLE001
        return "unreadable"
