"""hippoflow benchmarks: `make bench` (python -m benchmarks [name ...])."""
