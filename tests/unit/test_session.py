"""setup(): seeds, device choice, figure renderer."""

import plotly.io as pio
import pytest
import torch

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


def test_setup_makes_figures_interactive():
    setup(figures=True)
    assert pio.renderers.default == "plotly_mimetype"
