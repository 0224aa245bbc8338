"""CPU seconds of a day's jobs: start-up + a fixed cost per job + rate x channel-hours."""

from __future__ import annotations

from collections import defaultdict

from hippoflow.estimate.counts import LOCAL

CHANNEL_RULES = ("rplsplit", "rpllfp", "rplhighpass", "sort")  # rules with a channel-hour rate


def rule_seconds(plan, lengths, day, day_jobs: dict[str, int], rates: dict) -> dict[str, float]:
    """rule -> CPU seconds of its jobs on ``day`` (one core each; rates from config/rates.yaml:
    ``job_start_s`` per job, ``seconds_per_job`` or ``default_job_s`` per job,
    ``seconds_per_channel_hour`` x the channel-hours of the day's neural sessions)."""
    hours = 0.0
    for s in plan.neural_sessions():
        if (s.subject, s.day) == day:
            n, fs, _ = lengths[s.key]
            hours += len(s.channels) * n / fs / 3600
    per_ch_h = rates["seconds_per_channel_hour"]
    start = float(rates["job_start_s"])
    fixed = rates.get("seconds_per_job", {})
    out: dict[str, float] = defaultdict(float)
    for rule, count in day_jobs.items():
        if rule in LOCAL:
            continue
        out[rule] += count * (start + float(fixed.get(rule, rates["default_job_s"])))
    for rule in CHANNEL_RULES:  # listed even at 0 h: their queue carries the channel work
        out[rule] += hours * float(per_ch_h.get(rule, 0.0))
    return dict(out)
