"""Browser-test fixtures: one JupyterLab server and one headless Chromium per session, a fresh
page per test, each shut down in its teardown whatever the test's outcome.

Without Chromium (or the playwright package) the browser tests skip, unless
``COURSE_REQUIRE_BROWSER=1`` (set by .ci/run), which turns that skip into a failure."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import CHROMIUM_FLAGS, INSTALL_HINT, JupyterLabServer, find_chromium


def _unavailable(reason: str) -> None:
    message = f"browser tests cannot run: {reason}; {INSTALL_HINT}"
    if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} (COURSE_REQUIRE_BROWSER=1 forbids skipping them)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium the browser tests drive; skips (or fails in CI) when there is none."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    path = find_chromium()
    if path is None:
        _unavailable("no Chromium found")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """A headless Chromium driven by Playwright, closed at the end of the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS, timeout=120_000
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def jupyter_lab(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A JupyterLab server on 127.0.0.1 with its own temporary root, settings and workspaces;
    stopped (with its kernels) at the end of the session."""
    server = JupyterLabServer(tmp_path_factory.mktemp("jupyterlab"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def lab_page(browser: Any, jupyter_lab: JupyterLabServer) -> Iterator[Any]:
    """A fresh browser page; its uncaught JavaScript errors are kept in ``page.errors``.
    Afterwards the page is closed and every kernel the test started is shut down."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
        jupyter_lab.shutdown_kernels()


@pytest.fixture(scope="session")
def test_artifacts() -> Path:
    """The git-ignored folder for screenshots and other test artifacts."""
    from browser_support import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
