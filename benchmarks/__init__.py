"""Benchmarks of the course's code on this machine: training epoch, rank explorer, rank sweep,
dense vs factorized inference and the test suite. Run ``python -m benchmarks.run``."""
