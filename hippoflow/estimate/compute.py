"""CPU seconds of a day's jobs: start-up + a fixed cost per job + rate x channel-hours."""

from __future__ import annotations

from collections import defaultdict

from hippoflow.estimate.dag import LOCAL

CHANNEL_RULES = ("rplsplit", "rpllfp", "rplhighpass", "sort")  # rules with a channel-hour rate
#: a day's channel rules in the order their jobs can start (each stage reads the one before)
DAY_STAGES = (
    ("rplsplit",),
    ("rpllfp", "rplhighpass"),
    ("qc_lfp", "sort"),
    ("curate",),
    ("waveform_templates", "qc_metrics"),
)


def rule_seconds(plan, lengths, day, day_jobs: dict[str, int], rates: dict) -> dict[str, float]:
    """rule -> CPU seconds of its jobs on ``day`` (one core each; rates from config/rates.yaml:
    ``job_start_s`` per job, ``seconds_per_job`` or ``default_job_s`` per job,
    ``seconds_per_channel_hour`` x the channel-hours of the day's neural sessions,
    ``seconds_per_navigation_channel_hour`` x those of its navigation sessions (the fields,
    per day-channel), ``seconds_per_navigation_hour`` x the hours of its navigation sessions
    (fields_samples, per session))."""
    from hippoflow.naming import is_fixation

    hours = nav_hours = nav_ch_hours = 0.0
    for s in plan.neural_sessions():
        if (s.subject, s.day) == day:
            n, fs, _ = lengths[s.key]
            hours += len(s.channels) * n / fs / 3600
            if not is_fixation(s.name):
                nav_hours += n / fs / 3600
                nav_ch_hours += len(s.channels) * n / fs / 3600
    per_ch_h = rates["seconds_per_channel_hour"]
    fixed = rates.get("seconds_per_job", {})
    out: dict[str, float] = defaultdict(float)
    for rule, count in day_jobs.items():
        if rule in LOCAL:
            continue
        out[rule] += count * (
            job_start(rates, rule) + float(fixed.get(rule, rates["default_job_s"]))
        )
    for rule in CHANNEL_RULES:  # listed even at 0 h: their queue carries the channel work
        out[rule] += hours * float(per_ch_h.get(rule, 0.0))
    for key, h in (
        ("seconds_per_navigation_channel_hour", nav_ch_hours),
        ("seconds_per_navigation_hour", nav_hours),
    ):
        for rule, rate in rates.get(key, {}).items():
            if day_jobs.get(rule):  # a day without navigation or gaze has no such job
                out[rule] += h * float(rate)
    return dict(out)


def job_start(rates: dict, rule: str) -> float:
    """A job's start-up (Python, the script's imports): the rule's measured value
    (``job_start_s_per_rule``), else ``job_start_s``."""
    return float(rates.get("job_start_s_per_rule", {}).get(rule, rates["job_start_s"]))


def group_wall(per_rule: dict, day_jobs: dict, members, cores: int) -> tuple[float, int]:
    """(wall seconds, CPUs) of one Slurm job running a day's ``members``.

    On one core (``cores`` 1: the profile's groups run one job after the other) the sum of
    their CPU seconds. With more, as the day group's inner Snakemake runs them: stage after
    stage (:data:`DAY_STAGES`; other members last), each taking its CPU seconds over the CPUs
    it can use (at most its jobs) or its longest job (its mean one), whichever is longer.
    The job asks for min(cores, the most jobs of a member rule) CPUs, as Snakemake sizes a
    group job's threads by its widest level."""
    members = [r for r in members if day_jobs.get(r)]
    if cores <= 1 or not members:
        return sum(per_rule.get(r, 0.0) for r in members), 1
    cpus = min(cores, max(day_jobs[r] for r in members))
    staged = [r for stage in DAY_STAGES for r in stage]
    wall = 0.0
    for stage in (*DAY_STAGES, tuple(r for r in members if r not in staged)):
        rules = [r for r in stage if r in members]
        if not rules:
            continue
        work = sum(per_rule.get(r, 0.0) for r in rules)
        jobs = sum(day_jobs[r] for r in rules)
        longest = max(per_rule.get(r, 0.0) / day_jobs[r] for r in rules)
        wall += max(work / min(cpus, jobs), longest)
    return wall, cpus
