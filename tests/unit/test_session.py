"""setup(): seeds, device choice, figure renderer."""

import random

import numpy as np
import plotly.io as pio
import pytest
import torch

from course_utils.session import pick_device, setup


def _draws() -> tuple[float, float, torch.Tensor]:
    return random.random(), float(np.random.rand()), torch.rand(3)


def test_setup_seeds_every_generator(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert setup(seed=5, figures=False) == torch.device("cpu")
    first = _draws()
    setup(seed=5, figures=False)
    again = _draws()
    assert first[:2] == again[:2] and torch.equal(first[2], again[2])
    setup(seed=6, figures=False)
    assert _draws()[0] != first[0]


def test_cuda_asked_for_without_cuda_names_the_fix(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="use 'cpu'"):
        pick_device("cuda")
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(ValueError, match="use 'cpu'"):
        pick_device()


def test_only_setup_with_figures_touches_the_renderer(monkeypatch):
    monkeypatch.setattr(pio.renderers, "default", "png")
    setup(figures=False)
    assert pio.renderers.default == "png"
    setup(figures=True)
    assert pio.renderers.default != "png"
