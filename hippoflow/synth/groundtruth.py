"""Ground truth for judging a sort: generated days' true spikes, members drawn at random for the
sorting benchmark, the true-template oracle and the scorers (used by the tests and benchmarks).

Inputs: each session's ``groundtruth_spikes.npz`` written by :mod:`hippoflow.synth.day` (keys
``times_<ch>``, ``units_<ch>``), or a member drawn by :func:`draw_member` (seeded; even seeds
tune, odd seeds report: :func:`half`) and made by :func:`make_random_member` (its high-pass data
per session, true spikes, true templates, SNR and separability d' of each unit); a sort's spike
times and cells.  Outputs: the true spikes on the concatenation's clock, each true unit's SNR,
the oracle's spikes (:func:`oracle`: SpikeInterface's ``wobble`` template matcher given the true
templates) and SpikeInterface's per-unit performance (accuracy, precision, recall), per day
(:func:`day_performance`) and per session (:func:`session_cells`: matches, false and redundant
cells).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hippoflow.sorting.cells import FS


def ground_truth(npz_paths: dict, channel: int, starts: dict) -> tuple[np.ndarray, np.ndarray]:
    """The generator's true spikes of ``channel`` on the concatenation's clock.

    ``npz_paths``/``starts``: per session, its ``groundtruth_spikes.npz`` and first sample.
    Returns (sample indices, day-wide unit ids) sorted by time.
    """
    times, units = [], []
    for session, path in npz_paths.items():
        with np.load(path) as gt:
            times.append(gt[f"times_{channel}"].astype(np.int64) + int(starts[session]))
            units.append(gt[f"units_{channel}"].astype(np.int64))
    t, u = np.concatenate(times), np.concatenate(units)
    order = np.argsort(t, kind="stable")
    return t[order], u[order]


def unit_snr(data: np.ndarray, times: np.ndarray, units: np.ndarray, noise: float) -> dict:
    """Peak |mean waveform| / noise of each true unit, measured on the high-pass data."""
    out = {}
    for u in np.unique(units):
        t = times[(units == u) & (times > 30) & (times < data.size - 60)]
        wf = data[t[:, None] + np.arange(-30, 60)[None, :]].mean(axis=0)
        out[int(u)] = float(np.abs(wf).max() / noise)
    return out


def compare(gt_times, gt_units, times, cells, sampling_rate=FS):
    """SpikeInterface's ground-truth comparison; returns the per-unit performance table."""
    import spikeinterface.comparison as sc
    import spikeinterface.core as si

    gt = si.NumpySorting.from_samples_and_labels([gt_times], [gt_units], sampling_rate)
    if len(times):
        tested = si.NumpySorting.from_samples_and_labels([times], [cells], sampling_rate)
    else:
        tested = si.NumpySorting.from_samples_and_labels(
            [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], sampling_rate
        )
    cmp = sc.compare_sorter_to_ground_truth(gt, tested, exhaustive_gt=True)
    return cmp.get_performance(method="by_unit")


# ---- members drawn at random: the sorting benchmark that cannot be tuned to
#
# A member is one day-channel: 1-3 sessions of band-passed Gaussian noise into which 1-6 units
# are added.  Every property is drawn from a broad distribution with the member's seed; seeds
# of one parity form one half (:func:`half`), so a rule chosen on the tuning half is judged on
# the report half.  The units' waveforms are SpikeInterface's fake waveforms
# (``generate_single_fake_waveform``: three exponentials) with parameters over and beyond its
# own ranges, high-passed 500-7500 Hz like PyHipp's RPLHighPass (Butterworth order 4, zero
# phase), some sign-flipped (positive-going); each is scaled so that its high-passed peak is
# SNR x the noise SD.  Each spike's amplitude is the template's times the day's slow linear
# drift, times 1 + jitter x N(0, 1), times decay^k for the k-th spike of a burst.

HP_SOS = None  # built on first use (scipy import)
WAVE_MS = (1.0, 4.0)  # the generated waveform's extent before / after its trough
HP_PAD = 150  # samples of zeros around a waveform before it is high-passed (filter ringing)
MAX_LAG = 15  # samples (0.5 ms) of alignment tried for d' and the oracle's matching
REFRACTORY_S = 0.0025
HALVES = ("tuning", "report")


def _sos():
    global HP_SOS
    if HP_SOS is None:
        from scipy import signal

        HP_SOS = signal.butter(4, [500, 7500], "bandpass", fs=FS, output="sos")
    return HP_SOS


def highpass(x: np.ndarray) -> np.ndarray:
    """PyHipp's RPLHighPass filter (500-7500 Hz, Butterworth order 4, zero phase)."""
    from scipy import signal

    return signal.sosfiltfilt(_sos(), np.asarray(x, np.float64), axis=-1)


@dataclass(frozen=True)
class TrueUnit:
    """One generated unit.

    ``shape``: (depolarization, repolarization, recovery) in ms and the positive amplitude
    relative to the trough; ``sign`` -1 for a trough-first (negative-going) unit, +1 for a
    positive-going one; ``snr``: high-passed peak / noise SD; ``rate`` (Hz, bursts included);
    ``jitter``: SD of the per-spike amplitude factor; ``burst``: probability that a firing is a
    burst of 2-5 spikes 3-8 ms apart, each ``decay`` x the previous one's amplitude; ``drift``:
    the amplitude's change from the day's start to its end (fraction, linear).
    """

    snr: float
    rate: float
    shape: tuple
    sign: int = -1
    jitter: float = 0.0
    burst: float = 0.0
    decay: float = 1.0
    drift: float = 0.0


@dataclass(frozen=True)
class RandomMember:
    seed: int
    units: tuple
    noise_uv: float
    sessions: int
    seconds: float  # per session

    @property
    def half(self) -> str:
        return half(self.seed)

    @property
    def name(self) -> str:
        return f"seed{self.seed:04d}"


def half(seed: int) -> str:
    """The half a seed belongs to: even seeds tune, odd seeds report."""
    return HALVES[int(seed) % 2]


def _log_uniform(rng, lo, hi):
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def draw_member(seed: int, seconds: float = 120.0) -> RandomMember:
    """A member drawn from the broad distributions with ``seed`` (``seconds`` per session)."""
    rng = np.random.default_rng([int(seed), 21])
    units = []
    for _ in range(int(rng.integers(1, 7))):
        shape = (
            rng.uniform(0.05, 0.25),  # depolarization ms (SpikeInterface: 0.09-0.14)
            rng.uniform(0.3, 1.2),  # repolarization ms (0.5-0.8)
            rng.uniform(0.6, 2.5),  # recovery ms (1.0-1.5)
            rng.uniform(0.02, 0.6),  # positive amplitude / trough
        )
        bursty = rng.random() < 0.3
        units.append(
            TrueUnit(
                snr=_log_uniform(rng, 2.0, 40.0),
                rate=_log_uniform(rng, 0.3, 30.0),
                shape=tuple(float(v) for v in shape),
                sign=-1 if rng.random() < 0.85 else 1,
                jitter=float(rng.uniform(0.0, 0.2)),
                burst=float(rng.uniform(0.2, 0.6)) if bursty else 0.0,
                decay=float(rng.uniform(0.6, 0.95)) if bursty else 1.0,
                drift=float(rng.uniform(-0.3, 0.3)),
            )
        )
    return RandomMember(
        seed=int(seed),
        units=tuple(units),
        noise_uv=float(rng.uniform(3.0, 8.0)),
        sessions=int(rng.integers(1, 4)),
        seconds=float(seconds),
    )


def unit_waveform(unit: TrueUnit) -> np.ndarray:
    """The unit's high-passed waveform at amplitude 1 (peak |value| = 1), -1..4 ms (plus the
    filter's ringing: :data:`HP_PAD` samples each side)."""
    from spikeinterface.core.generate import generate_single_fake_waveform

    dep, rep, rec, pos = unit.shape
    w = generate_single_fake_waveform(
        sampling_frequency=FS,
        ms_before=WAVE_MS[0],
        ms_after=WAVE_MS[1],
        negative_amplitude=-1.0,
        positive_amplitude=pos,
        depolarization_ms=dep,
        repolarization_ms=rep,
        recovery_ms=rec,
        smooth_ms=0.05,
        dtype="float64",
    )
    pad = np.zeros(HP_PAD)
    hp = highpass(np.r_[pad, w, pad]) * (-unit.sign)
    return hp / np.abs(hp).max()


def trough_index() -> int:
    """Index of the generated waveform's alignment point in :func:`unit_waveform`."""
    return HP_PAD + int(round(WAVE_MS[0] * FS / 1000))


def _spike_train(rng, unit: TrueUnit, n: int, edge: int):
    """(sample indices, amplitude factors from bursts) of one unit in a session of n samples."""
    refr = int(REFRACTORY_S * FS)
    size = 1.0 + (unit.burst * 2.5 if unit.burst else 0.0)  # mean spikes per firing
    events_rate = unit.rate / size
    isi = rng.exponential(FS / events_rate, int(events_rate * n / FS * 1.5) + 20) + refr
    starts = edge + np.cumsum(isi).astype(np.int64)
    starts = starts[starts < n - edge]
    t, a = [], []
    for s in starts:
        k = int(rng.integers(2, 6)) if rng.random() < unit.burst else 1
        gaps = rng.integers(int(0.003 * FS), int(0.008 * FS), k - 1)
        t.append(s + np.r_[0, np.cumsum(gaps)])
        a.append(unit.decay ** np.arange(k))
    if not t:
        return np.zeros(0, np.int64), np.zeros(0)
    t, a = np.concatenate(t).astype(np.int64), np.concatenate(a)
    o = np.argsort(t, kind="stable")
    t, a = t[o], a[o]
    keep = np.r_[True, np.diff(t) >= refr] & (t < n - edge)
    return t[keep], a[keep]


def make_random_member(member: RandomMember) -> dict:
    """The member's high-pass data and truth.

    Returns {"sessions": [name], "data": [float32 µV per session], "truth": [(sample indices,
    unit indices) per session], "templates": units x samples (high-passed, µV, amplitude 1 x
    SNR x noise), "snr": [...], "dprime": [...]}.
    """
    rng = np.random.default_rng([member.seed, 22])
    n = int(member.seconds * FS)
    waves = np.array([unit_waveform(u) for u in member.units])
    scale = np.array([u.snr * member.noise_uv for u in member.units])
    templates = waves * scale[:, None]
    t0 = trough_index()
    edge = templates.shape[1]
    white = np.random.default_rng(0).standard_normal(int(10 * FS))
    gain = float(highpass(white)[int(FS) : -int(FS)].std())
    day = member.sessions * n
    sessions, data, truth = [], [], []
    for k in range(member.sessions):
        x = highpass(rng.standard_normal(n)) * (member.noise_uv / gain)
        times, units = [], []
        for i, u in enumerate(member.units):
            t, a = _spike_train(rng, u, n, edge)
            amp = a * np.clip(1.0 + u.jitter * rng.standard_normal(t.size), 0.3, None)
            amp *= 1.0 + u.drift * ((k * n + t) / day - 0.5)
            idx = (t - t0)[:, None] + np.arange(edge)[None, :]
            np.add.at(x, idx.ravel(), (amp[:, None] * templates[i][None, :]).ravel())
            times.append(t)
            units.append(np.full(t.size, i, np.int64))
        t, lab = np.concatenate(times), np.concatenate(units)
        o = np.argsort(t, kind="stable")
        sessions.append(f"session{k + 1:02d}")
        data.append(x.astype(np.float32))
        truth.append((t[o], lab[o]))
    return {
        "sessions": sessions,
        "data": data,
        "truth": truth,
        "templates": templates,
        "snr": [float(u.snr) for u in member.units],
        "dprime": dprime(templates, member.noise_uv),
    }


def _shift(b: np.ndarray, s: int) -> np.ndarray:
    out = np.zeros_like(b)
    if s > 0:
        out[s:] = b[:-s]
    elif s < 0:
        out[:s] = b[-s:]
    else:
        out[:] = b
    return out


def aligned_distance(a, b, max_lag: int = MAX_LAG) -> float:
    """min over lags |s| <= max_lag of the Euclidean norm of a - b shifted by s."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return min(float(np.linalg.norm(a - _shift(b, s))) for s in range(-max_lag, max_lag + 1))


def dprime(templates: np.ndarray, noise: float) -> list[float]:
    """Each unit's separability: its template's distance to the nearest other unit's template
    (after the best alignment), in noise SDs; inf for a unit alone on its channel."""
    n = len(templates)
    out = []
    for i in range(n):
        d = [aligned_distance(templates[i], templates[j]) for j in range(n) if j != i]
        out.append(min(d) / noise if d else float("inf"))
    return out


def day_clock(truth: list, lengths: list) -> tuple[np.ndarray, np.ndarray]:
    """Per-session truth [(times, units)] on the sessions' concatenation clock."""
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    t = np.concatenate([tt + s for (tt, _), s in zip(truth, starts, strict=True)])
    u = np.concatenate([uu for _, uu in truth])
    o = np.argsort(t, kind="stable")
    return t[o], u[o]


def oracle(data: np.ndarray, templates: np.ndarray, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Template matching with the true templates: SpikeInterface's ``wobble`` matcher
    (``find_spikes_from_templates``) on ``data`` (1-D, µV) given each unit's high-passed template
    (amplitude 1) and the noise SD.  Returns (sample indices of the trough, unit indices)."""
    import spikeinterface.core as si

    from hippoflow.sorting.match import find_spikes

    si.set_global_job_kwargs(progress_bar=False, n_jobs=1)
    before = int(round(WAVE_MS[0] * FS / 1000))
    t0 = trough_index()
    # the matcher's window: 1 ms before, 2 ms after the alignment point
    win = templates[:, t0 - before : t0 + 2 * before]
    # in noise SDs: wobble's threshold is on the objective's scale (units of the noise variance)
    rec = si.NumpyRecording(
        [(np.asarray(data, np.float64) / noise).astype(np.float32)[:, None]], FS
    )
    spikes = find_spikes(rec, win / noise, before, "wobble", {})
    return spikes["sample_index"].astype(np.int64), spikes["cluster_index"].astype(np.int64)


def day_performance(gt_times, gt_units, times, labels, n_units: int) -> dict:
    """Per true unit (0..n_units-1): accuracy, precision, recall of its best-matching cell over
    the whole day (one cell for the day: a unit split across sessions scores less), by
    SpikeInterface's ground-truth comparison (spikes within 0.4 ms)."""
    perf = compare(gt_times, gt_units, times, labels)
    out = {}
    for k in ("accuracy", "precision", "recall"):
        col = perf[k] if k in perf else None
        out[k] = [
            float(col.loc[u]) if col is not None and u in col.index else 0.0 for u in range(n_units)
        ]
    return out


def session_cells(gt_times, gt_units, times, labels) -> dict:
    """One session's comparison: {"match": {true unit: cell or -1}, "false": cells matched to no
    true unit, "redundant": cells that duplicate a matched true unit}."""
    import spikeinterface.comparison as sc
    import spikeinterface.core as si

    gt = si.NumpySorting.from_samples_and_labels([gt_times], [gt_units], FS)
    tested = si.NumpySorting.from_samples_and_labels(
        [np.asarray(times, np.int64)], [np.asarray(labels, np.int64)], FS
    )
    cmp = sc.compare_sorter_to_ground_truth(gt, tested, exhaustive_gt=True)
    match = {int(u): int(c) for u, c in cmp.best_match_12.items()}
    return {
        "match": match,
        "false": [int(c) for c in cmp.get_false_positive_units()],
        "redundant": [int(c) for c in cmp.get_redundant_units()],
    }
