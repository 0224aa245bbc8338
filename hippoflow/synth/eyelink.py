"""Synthetic EyeLink recordings for a generated day (EyeLink ASCII, ``edf2asc`` layout).

``write_eyelink_day(day_dir, plans, rng, opts)`` is called by the behaviour generator
(:func:`hippoflow.synth.unity.write_day`) with the Ripple trial plans of
:func:`hippoflow.synth.day.plan_trials`.  It writes

* ``<day_dir>/<yymmdd>.asc``: every navigation session (session01, session02 ... in order),
  one recording block each, each starting with a ``Trigger Version 84`` message, then
  ``Start Trial 1p`` / ``Cue Offset 2p`` / ``End Trial 3p`` or ``Timeout 4p`` messages;
* ``<day_dir>/P<n>_<m>.asc``: the ``sessioneye`` fixation session: each Ripple code of the
  plan's start/reward/end triplets (1, 2, x) written as the 8-digit message of its bits,
  lowest bit first (:func:`fixation_text`): ``1  0  0  0  0  0  0  0`` (start, the pattern
  PyHipp reads trials by), ``0  1  0  0  0  0  0  0`` (reward 2), and for the end the
  plan's code (4: ``0  0  1  0  0  0  0  0``); the reward and end are the trial's next two
  8-digit messages, as PyHipp's reader takes them.  A plan of 1, 2 pairs writes start and
  end (2) plus a reward message ``0  0  0  0  0  0  0  1`` 50 ms before the end;
* ``<day_dir>/groundtruth_eyelink.json``: the clock and what was dropped (below).

The tracker clock is one clock for the whole day: for session s,
``tracker_ms = base_ms[s] + ripple_s * 1000 * (1 + drift_ppm * 1e-6)`` where ``base_ms`` of
the first session is an offset of several hundred thousand ms and each later session (and
the fixation file) starts after the previous one ended.  Messages are written at that time
rounded to the ms.  One navigation trial message is dropped (``opts.eyelink_drop``, default
1, can be 0).  Samples are at 1000 Hz: fixations with small jitter joined by saccades, a
few off-screen fixations, blinks with missing gaze ('.'); SFIX/EFIX, SSACC/ESACC,
SBLINK/EBLINK events match the samples.

Ground truth JSON keys: ``navigation_file``, ``fixation_file``, ``drift_ppm``,
``sessions`` -> {session: {``base_ms`` (float), ``trigger_ms`` (int or null),
``block`` [START, END] ms, ``trial_ms`` (N x k ints: every trial message time as written,
the dropped one included at the time it would have had), ``codes`` (N x k)}},
``dropped`` -> [{``session``, ``trial`` (0-based row), ``column`` (0 start, 1 cue, 2 end),
``text``, ``time_ms``}].
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hippoflow.atomic import atomic_output
from hippoflow.behaviour.maze import SCREEN
from hippoflow.naming import EYELINK_TRIGGER, FIXATION_SESSION

RATE = 1000
FIX_REWARD = "0  0  0  0  0  0  0  1"  # the extra reward message of a plan of 1, 2 pairs


def fixation_text(code: int) -> str:
    """The 8-digit message of a fixation-task code: its bits, lowest first, two spaces apart
    (MATLAB's ``num2str`` of a bit vector); code 1 gives the trial-start pattern."""
    if not 0 <= code < 256:
        raise ValueError(f"fixation code {code} does not fit the 8 bits of a message")
    return "  ".join(str((code >> b) & 1) for b in range(8))


def _atomic_write(path: Path, write) -> None:
    with atomic_output(path) as tmp, open(tmp, "w", newline="\n") as f:
        write(f)


def _opt(opts, name, default):
    return getattr(opts, name, default) if opts is not None else default


def nav_text(code: int, column: int) -> str:
    """The EyeLink message the task writes for a Ripple code in a column (0, 1, 2)."""
    if column == 0:
        return f"Start Trial {code}"
    if column == 1:
        return f"Cue Offset {code}"
    return f"End Trial {code}" if code // 10 == 3 else f"Timeout {code}"


def synth_gaze(rng: np.random.Generator, n: int):
    """Gaze for n samples: arrays gx, gy, pupil (NaN gaze in blinks) and the events.

    Events: list of (kind, start_index, end_index, extra) with kind 'FIX', 'SACC', 'BLINK';
    end_index inclusive (the event's last sample).
    """
    gx = np.empty(n)
    gy = np.empty(n)
    pupil = np.empty(n)
    events = []
    pos = np.array([SCREEN[0] / 2, SCREEN[1] / 2])
    i = 0
    while i < n:
        # a fixation
        dur = int(rng.integers(150, 600))
        e = min(n, i + dur)
        gx[i:e] = pos[0] + rng.normal(0, 2.0, e - i)
        gy[i:e] = pos[1] + rng.normal(0, 2.0, e - i)
        pupil[i:e] = rng.uniform(900, 1400) + rng.normal(0, 5, e - i)
        events.append(("FIX", i, e - 1, None))
        i = e
        if i >= n:
            break
        if rng.random() < 0.06:  # a blink
            dur = int(rng.integers(80, 160))
            e = min(n, i + dur)
            gx[i:e] = np.nan
            gy[i:e] = np.nan
            pupil[i:e] = 0.0
            events.append(("BLINK", i, e - 1, None))
            i = e
            continue
        # a saccade to the next target; about 8% of targets are off the screen
        if rng.random() < 0.08:
            target = np.array([rng.uniform(-300, -20), rng.uniform(100, 900)])
            if rng.random() < 0.5:
                target[0] = SCREEN[0] + 20 - target[0]
        else:
            target = np.array([rng.uniform(50, SCREEN[0] - 50), rng.uniform(50, SCREEN[1] - 50)])
        dur = int(rng.integers(20, 60))
        e = min(n, i + dur)
        frac = (np.arange(e - i) + 1) / dur
        gx[i:e] = pos[0] + frac * (target[0] - pos[0])
        gy[i:e] = pos[1] + frac * (target[1] - pos[1])
        pupil[i:e] = pupil[i - 1]
        events.append(("SACC", i, e - 1, (pos.copy(), target.copy())))
        pos = target
        i = e
    return gx, gy, pupil, events


def _fmt(v: float) -> str:
    return "   ." if np.isnan(v) else f"{v:7.1f}"


def _block_lines(rng, start_ms: int, end_ms: int, messages: list[tuple[int, str]]):
    """Lines of one recording block (START..END) with samples, events and messages."""
    t = np.arange(start_ms, end_ms + 1, dtype=np.int64)
    gx, gy, pupil, events = synth_gaze(rng, t.size)
    others: list[tuple[int, int, str]] = []  # (time, order, line)
    for kind, a, b, extra in events:
        ta, tb = int(t[a]), int(t[b])
        dur = tb - ta + 1
        if kind == "FIX":
            others.append((ta, 1, f"SFIX L   {ta}"))
            others.append(
                (
                    tb,
                    3,
                    f"EFIX L   {ta}\t{tb}\t{dur}\t{np.mean(gx[a : b + 1]):7.1f}\t"
                    f"{np.mean(gy[a : b + 1]):7.1f}\t{np.mean(pupil[a : b + 1]):7.0f}",
                )
            )
        elif kind == "SACC":
            (sx, sy), (ex, ey) = extra
            ampl = np.hypot(ex - sx, ey - sy) / 35.0
            others.append((ta, 1, f"SSACC L  {ta}"))
            others.append(
                (
                    tb,
                    3,
                    f"ESACC L  {ta}\t{tb}\t{dur}\t{sx:7.1f}\t{sy:7.1f}\t{ex:7.1f}\t{ey:7.1f}\t"
                    f"{ampl:6.2f}\t{int(ampl * 40 + 100):6d}",
                )
            )
        else:
            others.append((ta, 1, f"SBLINK L {ta}"))
            others.append((tb, 3, f"EBLINK L {ta}\t{tb}\t{dur}"))
    for tm, text in messages:
        others.append((int(tm), 0, f"MSG\t{int(tm)} {text}"))
    others.sort(key=lambda x: (x[0], x[1]))
    head = [
        f"START\t{start_ms} \tLEFT\tSAMPLES\tEVENTS",
        "PRESCALER\t1",
        "VPRESCALER\t1",
        "PUPIL\tAREA",
        "EVENTS\tGAZE\tLEFT\tRATE\t1000.00\tTRACKING\tCR\tFILTER\t2",
        "SAMPLES\tGAZE\tLEFT\tRATE\t1000.00\tTRACKING\tCR\tFILTER\t2",
    ]
    sample_lines = [
        f"{tt}\t{_fmt(x)}\t{_fmt(y)}\t{p:7.1f}\t..."
        for tt, x, y, p in zip(t.tolist(), gx.tolist(), gy.tolist(), pupil.tolist(), strict=True)
    ]
    # interleave: a message/event at time T goes before the sample at time T (events that
    # end at T after it)
    out = head
    pos = 0
    for tm, order, line in others:
        cut = int(np.searchsorted(t, tm, "left" if order < 2 else "right"))
        if cut > pos:
            out.extend(sample_lines[pos:cut])
            pos = cut
        out.append(line)
    out.extend(sample_lines[pos:])
    out.append(f"END\t{end_ms + 1} \tSAMPLES\tEVENTS\tRES\t  38.00\t  31.00")
    return out


def _preamble(day: str, source: str) -> list[str]:
    return [
        f"** CONVERTED FROM {source} using hippoflow.synth.eyelink (synthetic edf2asc layout)",
        f"** DATE: synthetic recording of {day}",
        "** TYPE: EDF_FILE BINARY EVENT SAMPLE TAGGED",
        "** VERSION: EYELINK II 1",
        "** SOURCE: EYELINK CL",
        "** EYELINK II CL v5.12 synthetic",
        "** CAMERA: EyeLink USBCAM Version 1.01",
        "** SERIAL NUMBER: SYNTH-0001",
        "** CAMERA_CONFIG: SYNTH.SCD",
        "**",
        "",
    ]


def _setup_messages(t_ms: int) -> list[tuple[int, str]]:
    return [
        (t_ms, "RECCFG CR 1000 2 1 L"),
        (t_ms, "ELCLCFG BTABLER"),
        (t_ms, "GAZE_COORDS 0.00 0.00 1919.00 1079.00"),
        (t_ms, "THRESHOLDS L 102 255"),
        (t_ms, "DISPLAY_COORDS 0 0 1919 1079"),
    ]


def _session_seconds(plan: dict, opts, navigation: bool) -> float:
    secs = _opt(opts, "seconds", None)
    if not navigation and _opt(opts, "eye_seconds", None) is not None:
        secs = opts.eye_seconds
    last = float(np.max(plan["times"])) + 0.5 if np.size(plan["times"]) else 1.0
    return max(float(secs), last) if secs is not None else last + 0.5


def write_eyelink_day(day_dir, plans: dict, rng: np.random.Generator, opts=None) -> dict:
    """Write the day's EyeLink .asc files and ``groundtruth_eyelink.json``; return the truth.

    ``plans[session]`` = dict(session_start, codes (N, 3), for 'sessioneye' the 1, 2, x
    triplets (or (N, 2) start/end pairs), times (N, k) seconds on the Ripple clock,
    posters).  ``opts`` (the generator's Options, optional) supplies
    ``seconds``/``eye_seconds`` and may carry ``eyelink_drop`` (number of navigation
    messages to drop, default 1).
    """
    day_dir = Path(day_dir)
    day = day_dir.name
    yymmdd = day[2:] if len(day) == 8 else day
    drift_ppm = float(rng.uniform(20.0, 60.0) * rng.choice([-1.0, 1.0]))
    scale = 1.0 + drift_ppm * 1e-6
    base = float(rng.integers(300_000, 900_000)) + float(rng.uniform(0, 1))
    nav = sorted(s for s in plans if s != FIXATION_SESSION)
    truth: dict = {
        "navigation_file": None,
        "fixation_file": None,
        "drift_ppm": drift_ppm,
        "clock": "tracker_ms = base_ms + ripple_s * 1000 * (1 + drift_ppm * 1e-6)",
        "sessions": {},
        "dropped": [],
    }
    # which navigation message(s) to drop: a middle trial of a random session
    n_drop = int(_opt(opts, "eyelink_drop", 1))
    drops = set()
    candidates = [
        (s, r, c)
        for s in nav
        for r in range(1, max(plans[s]["codes"].shape[0] - 1, 1))
        for c in range(plans[s]["codes"].shape[1])
    ]
    if n_drop and candidates:
        pick = rng.choice(len(candidates), size=min(n_drop, len(candidates)), replace=False)
        drops = {candidates[int(i)] for i in pick}

    def session_block(session, plan, navigation):
        nonlocal base
        secs = _session_seconds(plan, opts, navigation)
        to_tr = lambda t: base + np.asarray(t, dtype=np.float64) * 1000.0 * scale  # noqa: E731
        start_ms = int(np.floor(to_tr(0.0)))
        end_ms = int(np.floor(to_tr(secs)))
        codes = np.asarray(plan["codes"], dtype=np.int64)
        trial_ms = np.rint(to_tr(plan["times"])).astype(np.int64).reshape(codes.shape)
        msgs = _setup_messages(start_ms)
        trig = None
        if navigation and plan.get("session_start") is not None:
            trig = int(np.rint(to_tr(plan["session_start"])))
            msgs.append((trig, EYELINK_TRIGGER))
        for r in range(codes.shape[0]):
            for c in range(codes.shape[1]):
                if navigation:
                    text = nav_text(int(codes[r, c]), c)
                else:
                    text = fixation_text(int(codes[r, c]))
                if (session, r, c) in drops:
                    truth["dropped"].append(
                        {
                            "session": session,
                            "trial": r,
                            "column": c,
                            "text": text,
                            "time_ms": int(trial_ms[r, c]),
                        }
                    )
                    continue
                if not navigation and codes.shape[1] == 2 and c == 1:
                    msgs.append((int(trial_ms[r, c]) - 50, FIX_REWARD))
                msgs.append((int(trial_ms[r, c]), text))
        truth["sessions"][session] = {
            "base_ms": base,
            "trigger_ms": trig,
            "block": [start_ms, end_ms + 1],
            "trial_ms": trial_ms.tolist(),
            "codes": codes.tolist(),
        }
        lines = _block_lines(rng, start_ms, end_ms, msgs)
        # the next session starts a while after this one on the tracker clock
        base = end_ms + float(rng.integers(20_000, 120_000)) + float(rng.uniform(0, 1))
        return lines

    if nav:
        name = f"{yymmdd}.asc"
        lines = _preamble(day, f"{yymmdd}.edf")
        for s in nav:
            lines += session_block(s, plans[s], True)
            lines.append("")
        _atomic_write(day_dir / name, lambda f: f.write("\n".join(lines) + "\n"))
        truth["navigation_file"] = name
    if FIXATION_SESSION in plans:
        name = f"P{int(rng.integers(1, 20))}_{int(rng.integers(1, 10))}.asc"
        lines = _preamble(day, name.replace(".asc", ".edf"))
        lines += session_block(FIXATION_SESSION, plans[FIXATION_SESSION], False)
        _atomic_write(day_dir / name, lambda f: f.write("\n".join(lines) + "\n"))
        truth["fixation_file"] = name
    _atomic_write(
        day_dir / "groundtruth_eyelink.json", lambda f: f.write(json.dumps(truth, indent=1))
    )
    return truth
