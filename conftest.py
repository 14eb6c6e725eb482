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


def cell_tags(cell) -> list[str]:
    """The tags in a notebook cell's metadata (an empty list when it has none)."""
    return list(cell.get("metadata", {}).get("tags", []))
