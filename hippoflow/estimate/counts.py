"""Jobs per rule and Slurm submissions of a plan, as the dry run makes them."""

from __future__ import annotations

import math
from collections import defaultdict

from hippoflow import naming

LOCAL = ("all", "input_problem")  # rules run on the submitting host, not as Slurm jobs


def count_jobs(plan) -> dict[str, dict]:
    """Per (subject, day): jobs per rule as the dry run makes them."""
    days: dict = defaultdict(lambda: defaultdict(int))
    for s in plan.sessions:
        d = days[(s.subject, s.day)]
        if len(s.nev) == 1:
            d["rplparallel"] += 1
            d["qc_trials"] += 1
        if s.channels:
            d["rplsplit"] += 1
            d["qc_lfp"] += 1
            d["rpllfp"] += 1  # every channel of the session in one job
            d["rplhighpass"] += len(s.channels)
    for s in plan.unity_sessions():
        days[(s.subject, s.day)]["unity"] += 1
        days[(s.subject, s.day)]["align_unity"] += 1
    eye_days = set()
    for s in plan.eyelink_sessions():
        d = days[(s.subject, s.day)]
        d["eyelink"] += 1
        d["align_eyelink"] += 1
        eye_days.add((s.subject, s.day))
        if not naming.is_fixation(s.name):
            d["raycast"] += 1
    for day in eye_days:
        days[day]["edfsplit"] += 1
    for (subject, day), chans in plan.day_channels.items():
        d = days[(subject, day)]
        for _a, c in chans:
            for rule in ("sort", "curate"):
                d[rule] += 1
            if len(plan.channel_arrays[(subject, day, c)]) == 1:
                d["waveform_templates"] += 1
            if plan.field_sessions((subject, day), _a, c):  # Plan.fields_targets
                d["fields"] += 1
        d["qc_metrics"] += 1
        if d.get("fields"):
            d["fields_day"] += 1
    if plan.nwb:  # one NWB file per session with one .nev (Plan.nwb_targets)
        for s in plan.marker_sessions():
            days[(s.subject, s.day)]["nwb"] += 1
    for key, _ in plan.problems:
        if len(key) >= 2:  # a day's or a session's (the run's own are no day's row)
            days[key[:2]]["input_problem"] += 1
    return {k: dict(v) for k, v in days.items()}


def group_components(plan, groups: dict[str, str]) -> dict[tuple, dict[str, int]]:
    """Per (subject, day): connected components of each group's jobs (jobs linked by a
    dependency between two members of the same group, as Snakemake forms group jobs)."""
    parent: dict = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def link(a, b):
        if groups.get(a[0]) is not None and groups.get(a[0]) == groups.get(b[0]):
            parent[find(a)] = find(b)

    nodes = []
    for s in plan.neural_sessions():
        split = ("rplsplit", s.key)
        qc = ("qc_lfp", s.key)
        lfp = ("rpllfp", s.key)
        nodes += [split, qc, lfp]
        link(lfp, split)
        link(qc, lfp)
        for ac in s.channels:
            hp = ("rplhighpass", s.key, ac)
            nodes.append(hp)
            link(hp, split)
    for (subject, day), chans in plan.day_channels.items():
        metrics = ("qc_metrics", (subject, day))
        nodes.append(metrics)
        for (a, c), sessions in chans.items():
            dc = (subject, day, a, c)
            srt, cur = ("sort", dc), ("curate", dc)
            nodes += [srt, cur]
            for name in sessions:
                link(srt, ("rplhighpass", (subject, day, name), (a, c)))
            link(cur, srt)
            if len(plan.channel_arrays[(subject, day, c)]) == 1:
                nodes.append(("waveform_templates", dc))
                link(("waveform_templates", dc), cur)
            link(metrics, cur)
            if plan.field_sessions((subject, day), a, c):
                nodes.append(("fields", dc))
                link(("fields", dc), cur)
    out: dict = defaultdict(lambda: defaultdict(set))
    for node in nodes:
        g = groups.get(node[0])
        if g is None:
            continue
        key = node[1][:2]
        out[key][g].add(find(node))
    return {day: {g: len(roots) for g, roots in gs.items()} for day, gs in out.items()}


def submissions(jobs: dict[str, int], comps: dict[str, int], groups, ncomp) -> int:
    ungrouped = sum(v for r, v in jobs.items() if r not in groups and r not in LOCAL)
    return ungrouped + sum(math.ceil(c / int(ncomp.get(g, 1))) for g, c in comps.items())
