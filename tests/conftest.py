"""Fixtures shared across tests/: a seeded untrained SimpleNN for the unit tests, and one
headless Chromium per session for every test that drives a browser (tests/browser/ and the
book's tests in tests/tools/): Playwright's sync API allows one instance at a time. The
JupyterLab server the notebook tests need lives in tests/browser/conftest.py."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _browser_support() -> Any:
    """tests/browser/browser_support.py, imported once under its own name (the browser tests
    import it as ``browser_support`` too, and get this same module)."""
    if "browser_support" not in sys.modules:
        path = Path(__file__).parent / "browser" / "browser_support.py"
        spec = importlib.util.spec_from_file_location("browser_support", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["browser_support"] = module
        spec.loader.exec_module(module)
    return sys.modules["browser_support"]


@pytest.fixture
def model() -> Any:
    """A fresh, untrained SimpleNN initialised with seed 0 (tests may change it freely)."""
    import torch

    from course_utils.models import SimpleNN

    torch.manual_seed(0)
    return SimpleNN()


def _unavailable(reason: str) -> None:
    message = f"browser tests cannot run: {reason}; {_browser_support().INSTALL_HINT}"
    if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} (COURSE_REQUIRE_BROWSER=1 forbids skipping them)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def small_trained_model() -> Any:
    """A SimpleNN with 64 hidden units trained one epoch on 6,400 MNIST images (seed 0): small
    enough to sweep every rank of its fc1 in a unit test. Shared; do not change it."""
    import torch

    from course_utils.data import load_mnist
    from course_utils.models import SimpleNN
    from course_utils.training import train_on_tensors

    torch.manual_seed(0)
    trained = SimpleNN(hidden_dim=64)
    train_on_tensors(trained, load_mnist(True).subset(6_400), progress=False)
    return trained


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium the browser tests drive; skips (or fails in CI) when there is none."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    path = _browser_support().find_chromium()
    if path is None:
        _unavailable("no Chromium found")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """A headless Chromium driven by Playwright, closed at the end of the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=_browser_support().CHROMIUM_FLAGS,
            timeout=120_000,
        )
        try:
            yield launched
        finally:
            launched.close()
