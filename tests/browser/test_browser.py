"""The rank sliders in a real browser: nbval runs notebooks without a front end, so it cannot
see a slider move. Here JupyterLab runs a blank copy of each slider notebook in headless
Chromium, the slider is moved with the keyboard, and the readouts and the figure must show the
values course_utils computes, with no error anywhere (cells, page, kernel log).

Screenshots of the final states go to build/test-artifacts/. About a minute per notebook on a
busy two-core machine."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbformat
import pytest
from browser_support import (
    CELL_OUTPUTS_JS,
    KERNEL_ERRORS_JS,
    NOTEBOOK_READY_JS,
    RENDERED_ERRORS_JS,
    REPOSITORY_ROOT,
    RUN_FINISHED_JS,
    WATCH_KERNEL_ERRORS_JS,
    JupyterLabServer,
    blank_copy,
    error_outputs,
    server_log_errors,
)

NOTEBOOKS = REPOSITORY_ROOT / "notebooks"
SLIDER_CALL = re.compile(r"\b\w*Slider\(")
KEYBOARD_MOVES = (("ArrowRight", 3), ("ArrowLeft", 5))  # up 3 ranks, then down 5


# --- expected values, computed here with course_utils and formatted as widgets.py does ------


@cache
def _model():
    from course_utils.base_model import base_model
    from course_utils.session import pick_device

    return base_model(device=pick_device(), progress=False)[0]


@cache
def _explained_variance() -> list[float]:
    from course_utils.svd import explained_variance, singular_values

    return [float(v) for v in explained_variance(singular_values(_model().fc1.weight.detach()))]


@cache
def _test_accuracy(rank: int) -> float:
    return _sweep().accuracy(rank)


@cache
def _sweep():
    from course_utils.data import load_mnist
    from course_utils.rank_sweep import RankSweep

    return RankSweep(_model(), load_mnist(train=False))


@dataclass(frozen=True)
class Shown:
    """What the slider's readouts and figure must show at one rank."""

    readout: str  # the HTML readout's text
    title: str  # the figure's title
    marker_y: float  # the y value of the figure's "selected rank" marker


def variance_at(rank: int) -> Shown:
    share = _explained_variance()[rank - 1] * 100
    return Shown(
        readout=f"rank {rank} keeps {share:.1f}% of fc1's variance",
        title=f"Rank {rank} keeps {share:.1f}% of the variance",
        marker_y=share,
    )


def truncation_at(rank: int) -> Shown:
    from course_utils.accounting import (
        dense_weight_count,
        factorized_layer_parameters,
        svd_storage,
    )

    rows, columns = _model().fc1.weight.shape
    dense = dense_weight_count(rows, columns)
    accuracy = _test_accuracy(rank) * 100
    stored = svd_storage(rows, columns, rank) / dense * 100
    factorized = factorized_layer_parameters(rows, columns, rank) / (dense + rows) * 100
    variance = _explained_variance()[rank - 1] * 100
    return Shown(
        readout=(
            f"rank {rank}: test accuracy {accuracy:.2f}% · U, diag(S), Vᵀ hold {stored:.2f}% of "
            f"fc1's weights · factorized fc1 (with bias) {factorized:.2f}% of its parameters · "
            f"explained variance {variance:.1f}%"
        ),
        title=f"Rank {rank}: test accuracy {accuracy:.2f}%",
        marker_y=accuracy,
    )


@dataclass(frozen=True)
class SliderNotebook:
    notebook: str
    expected: Callable[[int], Shown]


SLIDER_NOTEBOOKS = [
    SliderNotebook("03_explained_variance.ipynb", variance_at),
    SliderNotebook("04_truncate.ipynb", truncation_at),
]


def notebooks_with_sliders() -> list[str]:
    """Names of the notebooks with a code cell that creates a slider."""
    return sorted(
        path.name
        for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")
        if any(
            cell.cell_type == "code" and SLIDER_CALL.search(cell.source)
            for cell in nbformat.read(path, as_version=4).cells
        )
    )


def test_every_slider_notebook_has_a_browser_test() -> None:
    covered = {case.notebook for case in SLIDER_NOTEBOOKS}
    missing = sorted(set(notebooks_with_sliders()) - covered)
    assert not missing, f"add these notebooks to SLIDER_NOTEBOOKS in {__file__}: {missing}"
    assert covered <= set(notebooks_with_sliders()), "a listed notebook no longer has a slider"


# --- the browser test ---------------------------------------------------------------------


def _check_no_errors(page, server: JupyterLabServer, log_start: int) -> None:
    problems = error_outputs(page.evaluate(CELL_OUTPUTS_JS))
    problems += [f"rendered error: {text}" for text in page.evaluate(RENDERED_ERRORS_JS)]
    problems += [f"kernel error: {text[:2000]}" for text in page.evaluate(KERNEL_ERRORS_JS)]
    problems += [f"JavaScript error: {text}" for text in page.errors]
    problems += [
        f"kernel/server log: {text}" for text in server_log_errors(server.log()[log_start:])
    ]
    assert not problems, "errors in the browser:\n" + "\n\n".join(problems)


def _check_shows(widget, rank: int, expected: Shown) -> None:
    from playwright.sync_api import expect

    expect(widget.locator(".widget-readout")).to_have_text(str(rank), timeout=60_000)
    expect(widget.locator(".widget-html-content")).to_have_text(expected.readout, timeout=60_000)
    expect(widget.locator(".js-plotly-plot .gtitle")).to_have_text(expected.title)
    marker = widget.locator(".js-plotly-plot").evaluate(
        "plot => { const marker = plot.data[plot.data.length - 1];"
        " return [Array.from(marker.x), Array.from(marker.y)]; }"
    )
    assert marker[0] == [rank]
    assert marker[1] == [pytest.approx(expected.marker_y, abs=1e-6)]


@pytest.mark.browser
@pytest.mark.parametrize("case", SLIDER_NOTEBOOKS, ids=lambda case: case.notebook.split("_")[0])
def test_slider_moves_in_the_browser(
    case: SliderNotebook, lab_page, jupyter_lab: JupyterLabServer, test_artifacts: Path
) -> None:
    page, server = lab_page, jupyter_lab
    log_start = len(server.log())
    blank_copy(NOTEBOOKS / case.notebook, server.root)
    page.goto(server.notebook_url(case.notebook), timeout=120_000)
    widget = page.locator(".widget-vbox:has(.widget-slider)").first
    try:
        page.wait_for_function(NOTEBOOK_READY_JS, timeout=120_000, polling=500)
        page.evaluate(WATCH_KERNEL_ERRORS_JS)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        finished = page.wait_for_function(RUN_FINISHED_JS, timeout=300_000, polling=500)
        assert finished.json_value() == "done", error_outputs(page.evaluate(CELL_OUTPUTS_JS))
        _check_no_errors(page, server, log_start)

        handle = widget.locator(".widget-slider .noUi-handle")
        handle.wait_for(state="visible", timeout=60_000)
        widget.scroll_into_view_if_needed()
        # the notebook's last slider cell set the rank; the browser must show that rank
        rank = int(widget.locator(".widget-readout").inner_text())
        _check_shows(widget, rank, case.expected(rank))

        handle.focus()
        for key, presses in KEYBOARD_MOVES:
            for _ in range(presses):
                handle.press(key)
            rank += presses if key == "ArrowRight" else -presses
            try:
                _check_shows(widget, rank, case.expected(rank))
            except AssertionError:
                _check_no_errors(page, server, log_start)  # an error explains a stale display
                raise
        _check_no_errors(page, server, log_start)
    finally:
        if widget.count():
            widget.scroll_into_view_if_needed(timeout=5_000)
        page.screenshot(path=test_artifacts / f"browser-{Path(case.notebook).stem}.png")
