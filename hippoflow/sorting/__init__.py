"""Spike sorting (rules/sorting.smk): the sorter call, curation and per-session cells;
``steps`` holds one function per rule."""
