"""Synthetic recording days shaped like the lab's (``python -m hippoflow.synth --help``).

A day ``<out>/<subject>/<day>/`` holds navigation sessions ``session01..`` and a fixation
session ``sessioneye`` (Ripple ``.nev`` + ``.ns5``).  The ``.ns5`` (file spec 2.3, channels
spread over the four banks of 32 like the lab's arrays) carries a 1/f background, a theta
component and spikes of known units with distinct waveforms; every unit of a day-channel
fires in every session of that day, and its true spike sample indices are written to
``<session>/groundtruth_spikes.npz`` (keys ``channels``, ``times_<ch>``, ``units_<ch>``,
``templates_<ch>``).  Everything is deterministic from ``--seed``.

By default the files are shaped like the ones Ripple's Trellis writes for the lab: the
``.ns5`` stores the physical connectors 0-based (channels 1-32 on connector 0, the lab's
``array01``) and holds, after the electrodes, two analog inputs (:data:`ANALOG_INPUTS`:
``ainp1`` a photodiode-like square wave, high from each trial's start to its cue offset,
``ainp2`` a 1 Hz sine; ids 10241-10242, units mV) that are not channels to split; the
``.nev`` carries per-electrode ``NEUEVWAV``/``NEUEVLBL``/``NEUEVFLT`` extended headers, the
digital input's ``DIGLABEL`` and two comment packets (:func:`nev_comments`) besides the
parallel-port markers.  ``--blackrock-style`` writes Blackrock's 1-based connectors (bank 1 =
``array01``), no analog inputs, and a ``.nev`` of markers only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal

from hippoflow.ripple import nev, nsx

FS = nsx.SAMPLING_RATE
TEMPLATE_LEN = 60  # 2 ms
TEMPLATE_PEAK = 20

FIXATION_END_CODE = 4  # trial end of the fixation triplets (the lab's x; start 1, reward 2)

# Ripple-style extras (not with --blackrock-style): analog inputs after the electrodes in the
# .ns5, as Trellis numbers and labels them: (label, electrode id), units mV over +-5 V
ANALOG_INPUTS = (("ainp1", 10241), ("ainp2", 10242))
ANALOG_MAX_MV = 5000
PHOTODIODE_MV = 2000.0  # ainp1 while a trial's cue is on
SINE_MV = 500.0  # ainp2: 1 Hz
DIGITAL_LABEL = ("parallel", 1)  # the .nev's DIGLABEL: (label, mode 1 = parallel port)
NEV_APPLICATION = "hippoflow synth (Trellis style)"

# Paul Kellet-style 3-pole approximation of a 1/f spectrum
_PINK_B = np.array([0.049922035, -0.095993537, 0.050612699, -0.004408786])
_PINK_A = np.array([1.0, -2.494956002, 2.017265875, -0.522189400])


@dataclass
class Options:
    out: Path
    subject: str = "picasso"
    days: tuple[str, ...] = ("20181105",)
    sessions: int = 1
    eye: bool = True
    channels: int = 8
    seconds: float = 60.0
    eye_seconds: float | None = None
    units: int = 3
    seed: int = 0
    header_only: bool = False
    noise_uv: float = 8.0
    amplitude_uv: tuple[float, float] = (90.0, 220.0)
    rate_hz: tuple[float, float] = (3.0, 12.0)
    unity_header: str = "text"  # Unity log header style: text (14 lines), text11, json
    blackrock_style: bool = False  # 1-based connectors, no analog inputs, markers-only .nev
    place_units: int = 0  # the first N channels' unit 0 fires in a place field (navigation)


def electrode_ids(n: int) -> list[int]:
    """n channel numbers spread over the four banks of 32 (1.., 33.., 65.., 97..)."""
    if not 1 <= n <= 128:
        raise ValueError("channels must be between 1 and 128")
    per = -(-n // 4)
    ids = [32 * b + i + 1 for i in range(per) for b in range(4)][:n]
    return sorted(ids)


def unit_templates(rng: np.random.Generator, n_units: int, amp_range) -> np.ndarray:
    """Distinct extracellular waveforms (n_units, TEMPLATE_LEN), negative peak at sample 20."""
    t = np.arange(TEMPLATE_LEN) - TEMPLATE_PEAK
    out = np.empty((n_units, TEMPLATE_LEN))
    amps = np.linspace(amp_range[0], amp_range[1], n_units) if n_units > 1 else [amp_range[1]]
    for u in range(n_units):
        w1 = 2.0 + 1.5 * u + rng.uniform(0, 0.5)  # trough width grows with u
        w2 = 5.0 + 3.0 * u + rng.uniform(0, 1.0)
        rebound = 0.25 + 0.15 * u
        wave = -np.exp(-0.5 * (t / w1) ** 2) + rebound * np.exp(
            -0.5 * ((t - 2.5 * w1 - 4) / w2) ** 2
        )
        wave[t < -8] *= np.exp((t[t < -8] + 8) / 2.0)
        out[u] = amps[u] * wave / -wave.min()
    return out


def spike_trains(rng, n_units, n_samples, rate_range) -> tuple[np.ndarray, np.ndarray]:
    """Poisson trains with a 2 ms refractory period; returns sorted (sample, unit)."""
    times, units = [], []
    rates = rng.uniform(*rate_range, size=n_units)
    for u, rate in enumerate(rates):
        n = rng.poisson(rate * n_samples / FS)
        isi = rng.exponential(FS / rate, size=n) + 0.002 * FS
        t = np.cumsum(isi).astype(np.int64)
        t = t[(t > TEMPLATE_PEAK) & (t < n_samples - TEMPLATE_LEN)]
        times.append(t)
        units.append(np.full(t.size, u))
    times = np.concatenate(times) if times else np.zeros(0, np.int64)
    units = np.concatenate(units) if units else np.zeros(0, np.int64)
    order = np.argsort(times, kind="stable")
    return times[order], units[order]


def plan_trials(rng: np.random.Generator, duration: float, navigation: bool = True) -> dict:
    """Trial plan in seconds on the Ripple clock.

    Navigation: session-start 84 at 0.5 s, then per trial 1p (start), 2p (cue offset),
    3p (reward) or 4p (timeout), poster p in 1..6; the poster repeats after a timeout.
    Fixation: the lab's triplets, trial start 1, reward 2 (after the fixation is held) and
    trial end :data:`FIXATION_END_CODE` (after the reward), which RPLParallel arranges
    N x 3 (a stream starting 1, 2).
    Returns dict(session_start, codes (N, k), times (N, k), posters (N,)).
    """
    t = 0.5
    session_start = t if navigation else None
    t += 1.0
    codes, times, posters = [], [], []
    poster = int(rng.integers(1, 7))
    while True:
        if navigation:
            cue = rng.uniform(1.0, 2.0)
            timeout = rng.random() < 0.2
            nav = rng.uniform(3.0, 8.0) if not timeout else 10.0
            end = t + cue + nav
            if end + 0.5 > duration:
                break
            codes.append([10 + poster, 20 + poster, (40 if timeout else 30) + poster])
            times.append([t, t + cue, end])
            posters.append(poster)
            if not timeout:
                poster = int(rng.choice([p for p in range(1, 7) if p != poster]))
            t = end + rng.uniform(1.0, 2.0)
        else:
            dur = rng.uniform(1.0, 2.5)
            reward = rng.uniform(0.2, 0.5)
            if t + dur + reward + 0.5 > duration:
                break
            codes.append([1, 2, FIXATION_END_CODE])
            times.append([t, t + dur, t + dur + reward])
            posters.append(0)
            t += dur + reward + rng.uniform(0.5, 1.0)
    k = 3
    return {
        "session_start": session_start,
        "codes": np.array(codes, dtype=np.int64).reshape(-1, k),
        "times": np.array(times, dtype=np.float64).reshape(-1, k),
        "posters": np.array(posters, dtype=np.int64),
    }


def marker_stream(plan: dict) -> tuple[np.ndarray, np.ndarray]:
    """Parallel-port events (ticks, values): each code followed by a 0 one ms later."""
    codes = plan["codes"].ravel().tolist()
    times = plan["times"].ravel().tolist()
    if plan["session_start"] is not None:
        codes = [84] + codes
        times = [plan["session_start"]] + times
    ticks, values = [], []
    for c, t in zip(codes, times, strict=True):
        tick = int(round(t * FS))
        ticks += [tick, tick + FS // 1000]
        values += [c, 0]
    return np.array(ticks, dtype=np.int64), np.array(values, dtype=np.int64)


def connector(electrode_id: int, blackrock_style: bool = False) -> int:
    """The physical-connector byte of an electrode: its bank of 32, 0-based as Trellis writes
    it for the lab (1-32 -> 0), 1-based in Blackrock's numbering (1-32 -> 1)."""
    return (electrode_id - 1) // 32 + (1 if blackrock_style else 0)


def ns5_channels(ids, blackrock_style: bool = False) -> list[nsx.ChannelSpec]:
    """The .ns5 channel headers: the electrodes ("raw <id>", uV), then (Ripple style) the
    analog inputs of :data:`ANALOG_INPUTS` (mV)."""
    chans = [
        nsx.ChannelSpec(e, connector(e, blackrock_style), (e - 1) % 32 + 1, label=f"raw {e}")
        for e in ids
    ]
    if not blackrock_style:
        chans += [
            nsx.ChannelSpec(eid, 0, k + 1, label=label, max_analog=ANALOG_MAX_MV, units="mV")
            for k, (label, eid) in enumerate(ANALOG_INPUTS)
        ]
    return chans


def analog_inputs(plan: dict, start: int, stop: int) -> np.ndarray:
    """mV of the analog inputs for samples [start, stop): (stop - start, 2)."""
    t = np.arange(start, stop) / FS
    square = np.zeros(t.size)
    for on, off in plan["times"][:, :2]:
        square[(t >= on) & (t < off)] = PHOTODIODE_MV
    return np.stack([square, SINE_MV * np.sin(2 * np.pi * t)], axis=1)


def nev_electrodes(ids) -> list[nev.NevElectrode]:
    """Per-electrode extended headers of a Ripple-style .nev (connectors as in the .ns5)."""
    return [nev.NevElectrode(e, connector(e), (e - 1) % 32 + 1, label=f"spk {e}") for e in ids]


def nev_comments(n_samples: int) -> list[tuple[int, str]]:
    """The comment packets of a Ripple-style .nev: (tick, text) at the first and last sample."""
    return [
        (0, "hippoflow synthetic recording start"),
        (max(0, n_samples - 1), "hippoflow synthetic recording end"),
    ]


def write_session_nev(path: Path, ticks, values, ids, n_samples, opts: Options) -> None:
    if opts.blackrock_style:
        nev.write_nev(path, ticks, values)
        return
    nev.write_nev(
        path,
        ticks,
        values,
        electrodes=nev_electrodes(ids),
        digital_label=DIGITAL_LABEL,
        comments=nev_comments(n_samples),
        application=NEV_APPLICATION,
    )


def write_ns5(
    path: Path, ids, n_samples, rng, templates, trains, opts: Options, plan: dict | None = None
) -> dict:
    """Stream a synthetic .ns5 to disk chunk by chunk; returns ground truth per channel.

    Ripple style (the default) adds the analog inputs after the electrodes (their signals
    follow ``plan``'s trial times, no random numbers, so the electrodes' data do not depend
    on the style)."""
    channels = ns5_channels(ids, opts.blackrock_style)
    gain = channels[0].max_analog / channels[0].max_digital
    n_ch = len(ids)
    analog = channels[n_ch:]
    analog_gain = np.array([c.max_analog / c.max_digital for c in analog])
    plan = plan or {"times": np.zeros((0, 2))}
    with open(path, "wb") as f:
        f.write(nsx.nsx_header_bytes(channels, when=dt.datetime(2018, 11, 5, 10, 0, 0)))
        f.write(nsx.nsx_block_header(0, n_samples))
        zi = np.zeros((3, n_ch))
        theta_f = rng.uniform(6.0, 9.0, size=n_ch)
        theta_phase = rng.uniform(0, 2 * np.pi, size=n_ch)
        chunk = FS * 10
        for s in range(0, n_samples, chunk):
            e = min(n_samples, s + chunk)
            m = e - s
            white = rng.standard_normal((m, n_ch))
            pink, zi = signal.lfilter(_PINK_B, _PINK_A, white, axis=0, zi=zi)
            x = 60.0 * pink + opts.noise_uv * rng.standard_normal((m, n_ch))
            tt = np.arange(s, e)[:, None] / FS
            x += (
                40.0
                * (1 + 0.3 * np.sin(2 * np.pi * 0.1 * tt))
                * np.sin(2 * np.pi * theta_f * tt + theta_phase)
            )
            for j, e_id in enumerate(ids):
                times, units = trains[e_id]
                lo = np.searchsorted(times, s - TEMPLATE_LEN)
                hi = np.searchsorted(times, e)
                for t0, u in zip(times[lo:hi], units[lo:hi], strict=True):
                    a = t0 - TEMPLATE_PEAK
                    idx = np.arange(a, a + TEMPLATE_LEN)
                    keep = (idx >= s) & (idx < e)
                    x[idx[keep] - s, j] += templates[e_id][u][keep]
            digital = np.clip(np.round(x / gain), -32767, 32767).astype("<i2")
            if analog:
                extra = np.round(analog_inputs(plan, s, e) / analog_gain).astype("<i2")
                digital = np.concatenate([digital, extra], axis=1)
            f.write(digital.tobytes())
    return {"gain": gain}


def write_header_only_ns5(path: Path, ids, blackrock_style: bool = False) -> None:
    channels = ns5_channels(ids, blackrock_style)
    nsx.write_nsx(path, channels, [(0, np.zeros((30, len(channels)), dtype="<i2"))])


def generate(opts: Options, log=print) -> list[Path]:
    """Write the dataset; returns the day directories."""
    rng_root = np.random.default_rng(opts.seed)
    ids = electrode_ids(opts.channels)
    day_dirs = []
    for day in opts.days:
        rng = np.random.default_rng([opts.seed, int(day)])
        day_dir = Path(opts.out) / opts.subject / day
        day_dir.mkdir(parents=True, exist_ok=True)
        day_dirs.append(day_dir)
        templates = {e: unit_templates(rng, opts.units, opts.amplitude_uv) for e in ids}
        yymmdd = day[2:]
        sessions = [f"session{i + 1:02d}" for i in range(opts.sessions)]
        if opts.eye:
            sessions.append("sessioneye")
        plans, logs = {}, {}
        for session in sessions:
            navigation = session != "sessioneye"
            sdir = day_dir / session
            sdir.mkdir(exist_ok=True)
            seconds = opts.seconds if navigation or opts.eye_seconds is None else opts.eye_seconds
            n_samples = int(seconds * FS)
            base = f"{yymmdd}_Block1" if navigation else f"{yymmdd}_DST"
            plan = plan_trials(rng, seconds, navigation)
            plans[session] = plan
            ticks, values = marker_stream(plan)
            write_session_nev(sdir / f"{base}.nev", ticks, values, ids, n_samples, opts)
            if opts.header_only:
                write_header_only_ns5(sdir / f"{base}.ns5", ids, opts.blackrock_style)
                continue
            trains = {e: spike_trains(rng, opts.units, n_samples, opts.rate_hz) for e in ids}
            planted = {}
            if opts.place_units and navigation:
                # the Unity path first (its own random numbers), then the place units from it
                from hippoflow.synth import fields as synth_fields
                from hippoflow.synth import unity as synth_unity

                number = int(session.removeprefix("session"))
                logs[session] = synth_unity.session_log(
                    np.random.default_rng([opts.seed, int(day), number]), plan, seconds, opts
                )
                prng = np.random.default_rng([opts.seed, int(day), number, 1])
                for e in ids[: opts.place_units]:
                    trains[e], planted[e] = synth_fields.plant_place_unit(
                        prng, trains[e], logs[session], n_samples, FS, TEMPLATE_PEAK, TEMPLATE_LEN
                    )
            write_ns5(sdir / f"{base}.ns5", ids, n_samples, rng, templates, trains, opts, plan)
            gt = {"channels": np.array(ids), "sampling_rate": FS, "n_samples": n_samples}
            for e, centre in planted.items():  # unit 0 of these channels: a place unit
                gt[f"place_centre_{e}"] = np.asarray(centre)
            for e in ids:
                gt[f"times_{e}"], gt[f"units_{e}"] = trains[e]
                gt[f"templates_{e}"] = templates[e]
            np.savez(sdir / "groundtruth_spikes.npz", **gt)
            log(f"wrote {sdir} ({len(ids)} channels, {seconds:g} s, {len(plan['codes'])} trials)")
        write_behaviour(day_dir, plans, rng, opts, logs)
        (day_dir / "groundtruth_trials.json").write_text(
            json.dumps(
                {
                    s: {
                        "session_start": p["session_start"],
                        "codes": p["codes"].tolist(),
                        "times": p["times"].tolist(),
                    }
                    for s, p in plans.items()
                },
                indent=1,
            )
        )
    del rng_root
    return day_dirs


def write_behaviour(day_dir: Path, plans: dict, rng, opts: Options, logs=None) -> None:
    """Unity logs and EyeLink recordings for the day (filled in by the behaviour chain);
    ``logs``: Unity logs already made (the place units' sessions)."""
    try:
        from hippoflow.synth import unity as synth_behaviour
    except ImportError:
        return
    synth_behaviour.write_day(day_dir, plans, rng, opts, logs)


def parse_args(argv=None) -> Options:
    p = argparse.ArgumentParser(
        prog="python -m hippoflow.synth",
        description="Write a synthetic recording tree shaped like the lab's "
        "(<out>/<subject>/<day>/session01/..., sessioneye/).",
    )
    p.add_argument("--out", required=True, type=Path, help="root of the tree (data_root)")
    p.add_argument("--subject", default="picasso")
    p.add_argument("--days", nargs="+", default=["20181105"], help="day folders (YYYYMMDD)")
    p.add_argument("--n-days", type=int, help="generate this many consecutive days instead")
    p.add_argument("--sessions", type=int, default=1, help="navigation sessions per day")
    p.add_argument("--no-eye", action="store_true", help="no sessioneye fixation session")
    p.add_argument("--channels", type=int, default=8, help="channels, spread over 4 banks")
    p.add_argument("--seconds", type=float, default=60.0, help="length of each navigation session")
    p.add_argument("--eye-seconds", type=float, help="length of sessioneye (default --seconds)")
    p.add_argument("--units", type=int, default=3, help="units per channel")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--header-only",
        action="store_true",
        help="tiny .ns5 files (headers + 30 samples): for planning benchmarks",
    )
    p.add_argument(
        "--unity-header",
        choices=["text", "text11", "json"],
        default="text",
        help="Unity log header style: 14-line text (default), 11-line text, or one JSON line",
    )
    p.add_argument(
        "--blackrock-style",
        action="store_true",
        help="Blackrock's 1-based connectors (bank 1 = array01), no analog inputs in the .ns5, "
        "a .nev of markers only (default: Ripple/Trellis style: 0-based connectors, analog "
        "inputs ainp1-2, .nev extended headers and comments)",
    )
    p.add_argument(
        "--place-units",
        type=int,
        default=0,
        help="the first N channels' unit 0 fires in a place field of the navigation sessions "
        "(its centre in groundtruth_spikes.npz, place_centre_<channel>)",
    )
    a = p.parse_args(argv)
    days = tuple(a.days)
    if a.n_days:
        start = dt.date(int(days[0][:4]), int(days[0][4:6]), int(days[0][6:]))
        days = tuple((start + dt.timedelta(d)).strftime("%Y%m%d") for d in range(a.n_days))
    return Options(
        out=a.out,
        subject=a.subject,
        days=days,
        sessions=a.sessions,
        eye=not a.no_eye,
        channels=a.channels,
        seconds=a.seconds,
        eye_seconds=a.eye_seconds,
        units=a.units,
        seed=a.seed,
        header_only=a.header_only,
        unity_header=a.unity_header,
        blackrock_style=a.blackrock_style,
        place_units=a.place_units,
    )


def main(argv=None) -> int:
    generate(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
