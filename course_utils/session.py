"""One call at the top of every notebook: seeds, device, plotly renderer and display options
(introduced in 01_train)."""

from __future__ import annotations

import atexit
import os
import random
import warnings

import numpy as np
import torch

_static_figures: bool | None = None


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


def _start_static_export() -> bool:
    """Start kaleido's browser once per kernel so each PNG takes ~0.2 s; False if it cannot.

    Only when ``COURSE_STATIC_FIGURES=1`` (set by ``run_course --in-place`` when it refreshes the
    stored notebooks): a live kernel shows interactive figures and needs no PNG, and nbval
    does not compare images.
    """
    if os.environ.get("COURSE_STATIC_FIGURES", "0") != "1":
        return False
    try:
        import kaleido

        kaleido.start_sync_server(silence_warnings=True)
    except Exception as error:  # no Chromium, or kaleido missing: interactive figures only
        warnings.warn(
            f"static PNG figures are off ({error}); install Chromium (`apt-get install "
            "chromium`) for figures that show on GitHub",
            stacklevel=3,
        )
        return False
    atexit.register(kaleido.stop_sync_server, silence_warnings=True)
    warnings.filterwarnings("ignore", message="The kopts argument is ignored")
    return True


def configure_plotly() -> str:
    """Interactive plotly figures, plus a static PNG beside each when asked for and possible."""
    global _static_figures
    import plotly.io as pio

    if _static_figures is None:
        _static_figures = _start_static_export()
    renderer = "plotly_mimetype+png" if _static_figures else "plotly_mimetype"
    pio.renderers.default = renderer
    pio.templates.default = "plotly_white"
    return renderer


def static_figures() -> bool:
    """Whether figures get a static PNG beside the interactive view (see ``configure_plotly``)."""
    return bool(_static_figures)


def setup(seed: int = 0, device: str | None = None, figures: bool = True) -> torch.device:
    """Seed every generator, pick the device, set display options; returns the device."""
    seed_everything(seed)
    chosen = pick_device(device)
    torch.set_printoptions(precision=4, sci_mode=False)
    np.set_printoptions(precision=4, suppress=True)
    if figures:
        configure_plotly()
    return chosen
