"""Synthetic recording days shaped like the lab's (``python -m hippoflow.synth``): Ripple,
Unity and EyeLink writers with ground truth, and the ground-truth comparison used by tests
and benchmarks."""
