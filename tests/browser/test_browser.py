"""The rank explorer in a real browser: nbval runs notebooks without a front end, so it cannot see
a panel move. Here the explorer is driven twice in headless Chromium: in JupyterLab (a blank
copy of each notebook that builds one, run from the top) and on the standalone page that
``make explorer`` serves with Voilà. The slider is moved with the keyboard, and every panel
(digit predictions, per-class accuracies, shaded spectrum, accuracy marker, storage line) must
show the values course_utils computes for that rank, with no error anywhere (cells, page,
kernel, server log).

Screenshots of the final states go to build/test-artifacts/. A few minutes on a busy two-core
machine."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
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
    LocalServer,
    blank_copy,
    error_outputs,
    free_port,
    server_log_errors,
    stop_process_group,
)

NOTEBOOKS = REPOSITORY_ROOT / "notebooks"
INTERACTIVE_CALL = re.compile(r"\b(\w*Slider|RankExplorer)\(")
EXPLORER_NOTEBOOKS = ["04_truncate.ipynb"]
KEYBOARD_MOVES = (("ArrowRight", 3), ("ArrowLeft", 5))  # up 3 stops, then down 5


# --- expected values, computed here with course_utils, independently of the explorer -------


@cache
def _model():
    from course_utils.base_model import base_model
    from course_utils.session import pick_device

    return base_model(device=pick_device(), progress=False)[0]


@cache
def _test_data():
    from course_utils.data import load_mnist

    return load_mnist(train=False)


@cache
def _predictions(rank: int | None):
    """Every test image's predicted digit, by the original model or fc1 truncated to ``rank``."""
    import torch

    from course_utils.compress import truncate_layer

    model = _model() if rank is None else truncate_layer(_model(), "fc1", rank)
    with torch.no_grad():
        return model(_test_data().images.to(model.fc1.weight.device)).argmax(1).cpu()


@cache
def _shown_digits() -> tuple[int, ...]:
    """The explorer's digits: per class, the first test image the original model gets right."""
    labels, right = _test_data().labels, _predictions(None) == _test_data().labels
    return tuple(int(((labels == digit) & right).nonzero()[0]) for digit in range(10))


@dataclass(frozen=True)
class Expected:
    rank: int
    marks: list[str]  # the caption under each shown digit
    class_accuracies: list[float]  # percent
    accuracy: float  # percent
    energy: float  # percent
    stored: int
    share: float  # percent of the dense matrix


def expected_at(rank: int) -> Expected:
    from course_utils.accounting import svd_storage
    from course_utils.svd import explained_variance, singular_values

    predictions, labels = _predictions(rank), _test_data().labels
    right = predictions == labels
    marks = [f"{int(predictions[i])} {'✓' if bool(right[i]) else '✗'}" for i in _shown_digits()]
    per_class = [right[labels == digit].float().mean().item() * 100 for digit in range(10)]
    variance = explained_variance(singular_values(_model().fc1.weight.detach()))[rank - 1]
    stored = svd_storage(500, 784, rank)
    return Expected(
        rank=rank,
        marks=marks,
        class_accuracies=per_class,
        accuracy=right.float().mean().item() * 100,
        energy=variance.item() * 100,
        stored=stored,
        share=stored / 392_000 * 100,
    )


def notebooks_with_interactive_widgets() -> list[str]:
    """Names of the notebooks with a code cell that builds a slider or the explorer."""
    return sorted(
        path.name
        for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")
        if any(
            cell.cell_type == "code" and INTERACTIVE_CALL.search(cell.source)
            for cell in nbformat.read(path, as_version=4).cells
        )
    )


def test_every_explorer_notebook_has_a_browser_test() -> None:
    found = notebooks_with_interactive_widgets()
    missing = sorted(set(found) - set(EXPLORER_NOTEBOOKS))
    assert not missing, f"add these notebooks to EXPLORER_NOTEBOOKS in {__file__}: {missing}"
    assert set(EXPLORER_NOTEBOOKS) <= set(found), "a listed notebook no longer has the explorer"


# --- reading the explorer off the page ------------------------------------------------------

# The explorer's figure, as plotly.js holds it: trace 2 the digit captions, 4 the rank-k bars,
# 6 the shaded (kept) part of the spectrum, 9 the marker on the accuracy curve; null while the
# widget's figure has not arrived from the kernel yet (plotly.js first draws an empty figure).
PANELS_JS = """plot => (plot.data && plot.data.length === 10 && plot.layout.annotations ? {
    marks: Array.from(plot.data[2].text),
    bars: Array.from(plot.data[4].y),
    kept: Array.from(plot.data[6].x),
    marker: [Array.from(plot.data[9].x), Array.from(plot.data[9].y)],
    title: plot.layout.title.text,
    panels: plot.layout.annotations.map(a => a.text),
} : null)"""


def _check_shows(widget, rank: int) -> None:
    """Every panel of ``widget`` shows the values course_utils computes for ``rank``."""
    from playwright.sync_api import expect

    expect(_rank_label(widget)).to_have_text(f"rank k of fc1 = {rank}", timeout=60_000)
    plot = widget.locator(".js-plotly-plot")
    deadline = time.monotonic() + 180  # a busy machine can take long to send the first figure
    shown = plot.evaluate(PANELS_JS)
    while (shown is None or shown["marker"][0] != [rank]) and time.monotonic() < deadline:
        time.sleep(0.2)
        shown = plot.evaluate(PANELS_JS)
    expected = expected_at(rank)
    assert shown is not None, "the explorer's figure never arrived in the browser"
    assert shown["marker"][0] == [rank], f"the accuracy marker is not at rank {rank}"
    assert shown["marker"][1] == [pytest.approx(expected.accuracy, abs=0.02)]
    assert shown["marks"] == expected.marks, "digit predictions"
    assert shown["bars"] == pytest.approx(expected.class_accuracies, abs=0.2), "per class"
    assert shown["kept"] == list(range(1, rank + 1)), "the shaded part of the spectrum"
    assert f"{expected.energy:.1f}% of the energy" in shown["panels"][2]
    assert f"{expected.accuracy:.1f}% right" in shown["panels"][3]
    title = shown["title"]
    assert title.startswith(f"Rank {rank}:") and f"{expected.stored:,} numbers" in title
    assert f"{expected.share:.2f}% of the dense 392,000" in title and "up to rank 254" in title


def _rank_label(widget):
    """The label beside the slider that names the rank shown ("rank k of fc1 = 10")."""
    return widget.locator(".widget-label", has_text="rank k of fc1 =")


def _shown_rank(widget) -> int:
    return int(_rank_label(widget).inner_text().rsplit("=", 1)[1])


def _move_and_check(page, widget, check_errors) -> None:
    from course_utils.explorer import slider_stops

    handle = widget.locator(".widget-slider .noUi-handle")
    handle.wait_for(state="visible", timeout=120_000)
    widget.scroll_into_view_if_needed()
    stops = slider_stops(500)
    rank = _shown_rank(widget)
    _check_shows(widget, rank)
    handle.focus()
    for key, presses in KEYBOARD_MOVES:
        for _ in range(presses):
            handle.press(key)
        # one key press moves the slider one stop
        position = stops.index(rank) + (presses if key == "ArrowRight" else -presses)
        rank = stops[position]
        try:
            _check_shows(widget, rank)
        except AssertionError:
            check_errors()  # an error explains a stale display
            raise
    check_errors()


# --- in JupyterLab --------------------------------------------------------------------------


def _check_no_lab_errors(page, server: JupyterLabServer, log_start: int) -> None:
    problems = error_outputs(page.evaluate(CELL_OUTPUTS_JS))
    problems += [f"rendered error: {text}" for text in page.evaluate(RENDERED_ERRORS_JS)]
    problems += [f"kernel error: {text[:2000]}" for text in page.evaluate(KERNEL_ERRORS_JS)]
    problems += [f"JavaScript error: {text}" for text in page.errors]
    problems += [
        f"kernel/server log: {text}" for text in server_log_errors(server.log()[log_start:])
    ]
    assert not problems, "errors in the browser:\n" + "\n\n".join(problems)


@pytest.mark.browser
@pytest.mark.parametrize("notebook", EXPLORER_NOTEBOOKS, ids=lambda name: name.split("_")[0])
def test_explorer_moves_in_jupyterlab(
    notebook: str, lab_page, jupyter_lab: JupyterLabServer, test_artifacts: Path
) -> None:
    page, server = lab_page, jupyter_lab
    log_start = len(server.log())
    blank_copy(NOTEBOOKS / notebook, server.root)
    page.goto(server.notebook_url(notebook), timeout=120_000)
    widget = page.locator(".widget-vbox:has(.widget-slider)").first
    try:
        page.wait_for_function(NOTEBOOK_READY_JS, timeout=120_000, polling=500)
        page.evaluate(WATCH_KERNEL_ERRORS_JS)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        finished = page.wait_for_function(RUN_FINISHED_JS, timeout=400_000, polling=500)
        assert finished.json_value() == "done", error_outputs(page.evaluate(CELL_OUTPUTS_JS))
        _check_no_lab_errors(page, server, log_start)
        # the notebook's last explorer cell set the rank; the page must show that rank
        _move_and_check(page, widget, lambda: _check_no_lab_errors(page, server, log_start))
    finally:
        if widget.count():
            widget.scroll_into_view_if_needed(timeout=5_000)
        page.screenshot(path=test_artifacts / f"browser-{Path(notebook).stem}.png")


# --- the standalone page (make explorer) -----------------------------------------------------


class ExplorerPage(LocalServer):
    """``python -m tools.explorer`` (what ``make explorer`` runs) on a free port, in its own
    process group, its output in ``log_path``; stopped with its kernel by :meth:`stop`."""

    def __init__(self, home: Path) -> None:
        super().__init__(home, "explorer.log")

    @property
    def page_url(self) -> str:
        return f"{self.url}/"

    def start(self, timeout: float = 180.0) -> ExplorerPage:
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}  # as `make explorer` runs it
        command = [sys.executable, "-m", "tools.explorer", f"--port={self.port}", "--no-train"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPOSITORY_ROOT,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"make explorer exited early:\n{self.log()[-3000:]}")
            # not a request to the page: each one starts a kernel that runs the page's cells
            if "is running at" in self.log():
                return self
            time.sleep(0.5)
        raise TimeoutError(f"the explorer page did not answer:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process_group(process, (signal.SIGINT, signal.SIGTERM, signal.SIGKILL), 15)


@pytest.mark.browser
def test_explorer_page_serves_and_moves(
    browser, tmp_path: Path, test_artifacts: Path, chromium_path: str
) -> None:
    server = ExplorerPage(tmp_path)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    widget = page.locator(".widget-vbox:has(.widget-slider)").first

    def check_no_errors() -> None:
        problems = [f"rendered error: {text}" for text in page.evaluate(RENDERED_ERRORS_JS)]
        problems += [f"JavaScript error: {text}" for text in page.errors]
        problems += [f"server log: {text}" for text in server_log_errors(server.log())]
        assert not problems, "errors on the explorer page:\n" + "\n\n".join(problems)

    try:
        server.start()
        assert f"open {server.page_url}" in server.log(), "make explorer prints the address"
        page.goto(server.page_url, timeout=180_000)
        widget.locator(".js-plotly-plot").wait_for(state="visible", timeout=240_000)
        text = page.locator("body").inner_text()
        assert "What a rank-k layer keeps" in text
        assert "RankExplorer(" not in text and "import" not in text, "code is shown"
        assert _shown_rank(widget) == 10
        _move_and_check(page, widget, check_no_errors)
    finally:
        if widget.count():
            widget.scroll_into_view_if_needed(timeout=5_000)
        page.screenshot(path=test_artifacts / "browser-explorer-page.png")
        context.close()
        server.stop()


def test_the_page_refuses_to_start_without_a_cached_model(tmp_path: Path) -> None:
    # --no-train with an empty artifacts folder: a clear message, no training, no server
    environment = {**os.environ, "COURSE_ARTIFACTS_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "tools.explorer", "--no-train", f"--port={free_port()}"]
    finished = subprocess.run(
        command, cwd=REPOSITORY_ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode != 0
    assert "No trained base model is cached" in finished.stderr
    assert "make explorer" in finished.stderr and not list(tmp_path.iterdir())
