"""NWB export: one Neurodata Without Borders file per session, written with pynwb from the
workflow's own outputs (rule ``nwb``; :func:`hippoflow.nwb.steps.nwb`).

Modules, one per part of the file: :mod:`~hippoflow.nwb.metadata` (session start from the
recording header, subject, lab fields), :mod:`~hippoflow.nwb.ecephys` (device, arrays,
electrodes, the LFP and the optional 30 kHz series, streamed), :mod:`~hippoflow.nwb.units`
(the day-channels' curated cells), :mod:`~hippoflow.nwb.trials` (parallel-port trials),
:mod:`~hippoflow.nwb.behaviour` (Unity position and heading, EyeLink gaze, pupil, fixations,
saccades, the raycast's hit objects) and :mod:`~hippoflow.nwb.provenance` (versions, config,
input digests).
"""
