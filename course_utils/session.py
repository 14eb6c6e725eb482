"""One call at the top of every notebook: seeds, device, plotly renderer and display options
(introduced in 01_train)."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (every device) with one integer."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(prefer: str | None = None) -> torch.device:
    """CUDA when present, else CPU; ``prefer`` (or ``COURSE_DEVICE``) forces one."""
    choice = prefer or os.environ.get("COURSE_DEVICE")
    if choice:
        device = torch.device(choice)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {choice!r} asked for, but CUDA is not available; use 'cpu'")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def configure_plotly() -> str:
    """Interactive plotly figures in a clean template; returns the renderer's name.

    The kernel draws no static pictures: ``python -m tools.run_course --in-place`` adds a PNG
    beside each figure when it refreshes the stored notebooks."""
    import plotly.io as pio

    pio.renderers.default = "plotly_mimetype"
    pio.templates.default = "plotly_white"
    return pio.renderers.default


def setup(seed: int = 0, device: str | None = None, figures: bool = True) -> torch.device:
    """Seed every generator, pick the device, set display options; returns the device."""
    seed_everything(seed)
    chosen = pick_device(device)
    torch.set_printoptions(precision=4, sci_mode=False)
    np.set_printoptions(precision=4, suppress=True)
    if figures:
        configure_plotly()
    return chosen
