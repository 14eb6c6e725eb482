"""The one place that decides which notebook outputs nbval does not compare, and why.

nbval re-executes every notebook and compares each cell's stored outputs with fresh ones.
It already skips PNG images and widget views. We also skip:
- application/vnd.plotly.v1+json: interactive figure JSON; its numbers come from training and
  are checked by the asserts in the notebooks, not by string equality.
- text/html: rich HTML reprs (tables, plotly's HTML fallback) that carry random element ids.
Text that cannot be stable inside compared outputs (progress bars, timings) is rewritten by the
regular expressions in tests/notebooks/nbval_sanitize.cfg.
"""

from __future__ import annotations

UNCOMPARED_MIME_TYPES = ("application/vnd.plotly.v1+json", "text/html")


def pytest_collectstart(collector) -> None:
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:  # nbval not installed: no notebooks are collected anyway
        return
    if isinstance(collector, IPyNbFile):
        collector.skip_compare = tuple(collector.skip_compare) + UNCOMPARED_MIME_TYPES
