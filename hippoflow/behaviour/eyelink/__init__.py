"""EyeLink eye-tracker recordings: reading, EDFSplit and the Eyelink object.

Modules (import them directly; nothing is re-exported here):
``sniff`` (format by content, ``read_recording``), ``edf`` (binary .edf via edfapi, in a
child process), ``asc`` (ASCII .asc), ``recording`` (the ``Recording`` both readers return),
``sessions`` (trigger times, session split, trial messages, reconciliation with Ripple,
missingData.csv) and ``objects`` (the per-session Eyelink object).
"""
