"""``make explorer``: the rank explorer (``course_utils.explorer``, introduced in 04_truncate) as
a page without code cells, for a classroom projector, served by Voilà on 127.0.0.1.

It starts from the cached base model. When none is cached yet it trains one first, in this
terminal with a progress bar (one epoch: seconds on a laptop CPU), unless ``--no-train`` is
given, in which case it stops with a message naming what to run. The page itself never trains:
without a cached model it shows an error that says the same.

    python -m tools.explorer [--port 8866] [--no-train]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

import torch

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
PAGE = REPOSITORY_ROOT / "explorer" / "rank_explorer.ipynb"
DEFAULT_PORT = 8866
HOST = "127.0.0.1"


class NoCachedModelError(FileNotFoundError):
    """The explorer needs a trained base model and none is cached."""


def cached_model_path(device: torch.device) -> Path:
    """Where ``base_model`` caches the default base model for ``device``."""
    from course_utils.base_model import TrainConfig
    from course_utils.paths import artifacts_dir

    return artifacts_dir() / TrainConfig().cache_name(device.type)


def cached_base_model(device: torch.device):
    """The cached base model; raises :class:`NoCachedModelError`, naming what to run, if there is
    none (the page calls this, so it never trains behind the reader's back)."""
    from course_utils.base_model import base_model

    path = cached_model_path(device)
    if not path.exists():
        raise NoCachedModelError(
            f"No trained base model is cached at {path}. Run `make explorer` (it trains one "
            f"first, with a progress bar) or `make course` (notebook 01 trains it), then reload."
        )
    return base_model(device=device, progress=False)[0]


def ensure_base_model(device: torch.device, train: bool = True) -> Path:
    """Make sure a base model is cached: train it here with a progress bar, or, with
    ``train=False``, exit with a message naming what to run."""
    from course_utils.base_model import base_model

    path = cached_model_path(device)
    if path.exists():
        print(f"Using the cached base model {path.name}")
        return path
    if not train:
        raise SystemExit(
            f"No trained base model is cached at {path}. Run `make explorer` without "
            f"--no-train (it trains one first) or `make course`."
        )
    print(f"No trained base model is cached yet ({path}): training one now (one epoch).")
    base_model(device=device, progress=True)
    return path


def voila_command(port: int) -> list[str]:
    """Voilà serving the page on 127.0.0.1:``port``: no code cells, no browser opened here."""
    return [
        sys.executable,
        "-m",
        "voila",
        str(PAGE),
        "--no-browser",
        f"--Voila.ip={HOST}",
        f"--port={port}",
        "--Voila.port_retries=0",
        "--strip_sources=True",
    ]


def page_environment() -> dict[str, str]:
    """This checkout's ``course_utils`` and ``tools`` for the page's kernel, whichever checkout
    the virtual environment was installed from."""
    paths = [str(REPOSITORY_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.explorer", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1")
    parser.add_argument(
        "--no-train", action="store_true", help="stop instead of training a missing base model"
    )
    arguments = parser.parse_args(argv)
    from course_utils.session import pick_device

    ensure_base_model(pick_device(), train=not arguments.no_train)
    print(f"Rank explorer: open http://{HOST}:{arguments.port}/ (Ctrl+C stops it)", flush=True)
    server = subprocess.Popen(voila_command(arguments.port), env=page_environment())
    # a SIGTERM to this process stops Voilà too (Ctrl+C reaches both through the terminal)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main())
