"""Ripple recordings (rules/ripple.smk): NSx/NEV formats, parallel-port markers, the
channel split and the LFP / high-pass filters; ``steps`` holds one function per rule."""
