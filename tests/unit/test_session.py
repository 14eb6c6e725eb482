"""setup(): seeds, device choice, figure renderer; run_course's helpers."""

import nbformat
import plotly.io as pio
import pytest
import torch

from course_utils import session
from course_utils.run_course import strip_widget_state
from course_utils.session import pick_device, setup


def test_setup_seeds_every_generator_and_returns_a_device(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    device = setup(seed=5, figures=False)
    first = torch.rand(3)
    setup(seed=5, figures=False)
    assert torch.equal(first, torch.rand(3))
    assert device.type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_cuda_asked_for_without_cuda_names_the_fix(monkeypatch):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA, so asking for it is valid")
    with pytest.raises(ValueError, match="use 'cpu'"):
        pick_device("cuda")


def test_interactive_figures_without_static_export_by_default(monkeypatch):
    monkeypatch.delenv("COURSE_STATIC_FIGURES", raising=False)
    monkeypatch.setattr(session, "_static_figures", None)
    setup(figures=True)
    assert pio.renderers.default == "plotly_mimetype"


def test_strip_widget_state_keeps_outputs():
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["widgets"] = {"state": "5 MB of plotly.js"}
    cell = nbformat.v4.new_code_cell("1", outputs=[nbformat.v4.new_output("stream", text="x")])
    notebook.cells.append(cell)
    strip_widget_state(notebook)
    assert "widgets" not in notebook.metadata
    assert notebook.cells[0].outputs[0].text == "x"
