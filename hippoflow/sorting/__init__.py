"""Spike sorting (rules/sorting.smk): the sorter call (``sort``; ``runner`` runs it in a child
process with a time limit), curation (``curate``) and per-session cells (``cells``); ``steps``
holds one function per rule."""
