"""The course's tests. A package so that tests/conftest.py, which holds what they share, can be
imported as ``tests.conftest``."""
