"""The one place that decides which notebook outputs nbval does not compare, and why.

nbval re-executes every notebook and compares each cell's stored outputs with fresh ones. A
reader's machine is not ours: PyTorch picks its CPU kernels by instruction set (and the GPU has
its own), so one seeded epoch of training ends at slightly different weights on another
machine, and every number that comes out of training moves in its last digits. The rule:

- Outputs that are the same on every machine (shapes, parameter counts, storage numbers, ranks
  chosen by a rule from counts, text) are compared exactly: that is nbval's default.
- A code cell whose output depends on trained weights, timings, a live widget or the device
  carries one of the tags in ``UNCOMPARED_TAGS``. nbval still runs it (and every assert in
  it), but does not compare its output digit by digit. A ``trained-output`` cell must assert
  its numbers with a tolerance taken from measured spread;
  tests/notebooks/test_stored_notebooks.py checks that it does.

nbval also skips PNG images and widget views by itself. We also skip, in every cell:
- application/vnd.plotly.v1+json: interactive figure JSON; the numbers drawn come from training
  and are checked by the asserts in the notebooks, not by string equality.
- text/html: rich HTML reprs (tables, plotly's HTML fallback) that carry random element ids.
Text that cannot be stable inside compared outputs (progress bars, timings) is rewritten by the
regular expressions in tests/notebooks/nbval_sanitize.cfg.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from functools import cache
from itertools import groupby
from pathlib import Path

import pytest

UNCOMPARED_MIME_TYPES = ("application/vnd.plotly.v1+json", "text/html")

UNCOMPARED_TAGS = {
    "trained-output": "numbers computed from trained weights: they move in the last digits from "
    "one CPU instruction set, thread count or GPU to another; the cell asserts them with a "
    "tolerance",
    "timing-output": "wall-clock timings, which change from run to run",
    "widget-output": "a live widget (slider, progress bar) whose text depends on the session",
    "device-output": "the device the notebook runs on: cpu here, cuda on a reader's GPU",
}

# The other tags a notebook cell may carry. nbval compares these cells' outputs like any other;
# the stored-notebook tests and the book read them. A tag in neither list is a typo.
COMPARED_TAGS = {
    "exercise": "a starter cell the reader completes (prints the not-answered message)",
    "solution": "a worked solution, folded in JupyterLab and behind a toggle on the website",
    "optional": "an aside off the main path: its first cell is a `### Optional: <title>` "
    "heading; not counted in the reading time, shown as optional on the website",
}


@pytest.fixture(scope="session")
def cell_tag_rules() -> dict[str, dict[str, str]]:
    """The cell tags the course knows, with their reasons: ``{"uncompared": ..., "compared":
    ...}`` (tests/notebooks/test_stored_notebooks.py checks the notebooks against them)."""
    return {"uncompared": UNCOMPARED_TAGS, "compared": COMPARED_TAGS}


def pytest_collectstart(collector) -> None:
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:  # nbval not installed: no notebooks are collected anyway
        return
    if isinstance(collector, IPyNbFile):
        collector.skip_compare = tuple(collector.skip_compare) + UNCOMPARED_MIME_TYPES


def pytest_itemcollected(item) -> None:
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:
        return
    if isinstance(item, IPyNbCell) and UNCOMPARED_TAGS.keys() & set(cell_tags(item.cell)):
        item.options["check"] = False


def pytest_configure(config: pytest.Config) -> None:
    """In a parallel run, each worker (and each notebook kernel it starts) gets its share of the
    cores: two workers on two cores, each with PyTorch's two threads, made training many times
    slower than one process did."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers > 1:
        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ["OMP_NUM_THREADS"] = str(threads)  # read by each kernel nbval starts
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--trained-notebooks-only",
        action="store_true",
        help="run only the notebooks with a trained-output cell: the ones whose checks another "
        "kernel path can change (make test-portability)",
    )


@cache
def _notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def trains(path: Path) -> bool:
    """Whether the notebook has a cell tagged trained-output (numbers from trained weights)."""
    return any("trained-output" in cell_tags(cell) for cell in _notebook(path)["cells"])


def stored_seconds(path: Path) -> float:
    """How long the notebook took at its last refresh, from the timestamps nbclient keeps in
    each cell's metadata (60 s when there are none)."""
    stamps = [
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        for cell in _notebook(path)["cells"]
        for key, value in cell.get("metadata", {}).get("execution", {}).items()
        if key in ("iopub.execute_input", "shell.execute_reply")
    ]
    return (max(stamps) - min(stamps)).total_seconds() if stamps else 60.0


# A test file that drives a browser takes about this long (JupyterLab or the book, Chromium).
BROWSER_FILE_SECONDS = 60.0

# Notebooks that cache what they train in the artifacts folder, so their stored run time (from
# a refresh with a warm cache) understates a run with a fresh folder, as in CI: seconds measured
# cold on a quiet 2-core CPU, used only to start them first.
COLD_SECONDS = {"07_is_it_worth_it.ipynb": 205.0}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--trained-notebooks-only`` leaves out the notebooks without a trained-output cell. In a
    parallel run (pytest-xdist, ``--dist loadfile --no-loadscope-reorder``) the files go out
    longest first (notebooks by their stored run time, browser tests next to them), so that no
    worker starts a two-minute notebook when the others are done."""
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:
        return
    if config.getoption("trained_notebooks_only"):
        kept = [i for i in items if not isinstance(i, IPyNbCell) or trains(i.path)]
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
    parallel = hasattr(config, "workerinput") or config.getoption("dist", "no") != "no"
    if not parallel:  # an xdist worker collects for the scheduler, which keeps its order
        return

    def seconds(file_items: list[pytest.Item]) -> float:
        if isinstance(file_items[0], IPyNbCell):
            path = file_items[0].path
            return max(stored_seconds(path), COLD_SECONDS.get(path.name, 0.0))
        browser = any(item.get_closest_marker("browser") for item in file_items)
        return BROWSER_FILE_SECONDS if browser else 0.0

    files = [list(group) for _, group in groupby(items, key=lambda item: item.path)]
    items[:] = [item for group in sorted(files, key=seconds, reverse=True) for item in group]


def cell_tags(cell) -> list[str]:
    """The tags in a notebook cell's metadata (an empty list when it has none)."""
    return list(cell.get("metadata", {}).get("tags", []))
