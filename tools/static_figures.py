"""A static PNG beside every interactive plotly figure of an executed notebook, so the stored
notebooks read on GitHub and in the HTML pages (used by ``tools.run_course --in-place``).

The kernel emits interactive figures only; the PNGs are drawn here afterwards, by kaleido,
from the figure JSON each output already holds."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import nbformat

PLOTLY = "application/vnd.plotly.v1+json"
PNG = "image/png"

Renderer = Callable[[dict], bytes]


def figure_png(figure_json: dict) -> bytes:
    """The PNG plotly's ``png`` renderer would have drawn for this figure (kaleido)."""
    import plotly.io as pio

    figure = pio.from_json(json.dumps(figure_json), skip_invalid=True)
    return pio.to_image(figure, format="png")


def add_static_pngs(notebook: nbformat.NotebookNode, render: Renderer = figure_png) -> int:
    """Add ``image/png`` to every output holding a plotly figure without one; returns how many
    were added. Outputs that already have a PNG are left as they are."""
    added = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if PLOTLY in data and PNG not in data:
                data[PNG] = base64.b64encode(render(data[PLOTLY])).decode("ascii")
                added += 1
    return added


@contextmanager
def kaleido_running() -> Iterator[bool]:
    """Keep one kaleido browser running for the block, so each PNG takes ~0.2 s instead of
    starting Chromium anew; yields False (with a warning) when kaleido cannot start."""
    try:
        import kaleido

        kaleido.start_sync_server(silence_warnings=True)
    except Exception as error:  # no Chromium, or kaleido missing
        warnings.warn(
            f"static PNG figures are off ({error}); install Chromium (`apt-get install "
            "chromium`) for figures that show on GitHub",
            stacklevel=3,
        )
        yield False
        return
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The kopts argument is ignored")
            yield True
    finally:
        kaleido.stop_sync_server(silence_warnings=True)
