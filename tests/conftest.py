"""Fixtures shared by the unit tests: a seeded untrained SimpleNN. The browser tests' fixtures
live in tests/browser/conftest.py."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def model() -> Any:
    """A fresh, untrained SimpleNN initialised with seed 0 (tests may change it freely)."""
    import torch

    from course_utils.models import SimpleNN

    torch.manual_seed(0)
    return SimpleNN()
