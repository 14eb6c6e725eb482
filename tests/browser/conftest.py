"""Browser-test fixtures: one JupyterLab server per session and a fresh page per test, each
shut down in its teardown whatever the test's outcome. The headless Chromium (``browser``)
is shared with the book's tests and lives in tests/conftest.py, with ``test_artifacts``.

Without Chromium (or the playwright package) the browser tests skip, unless
``COURSE_REQUIRE_BROWSER=1`` (set by .ci/run), which turns that skip into a failure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import JupyterLabServer


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
