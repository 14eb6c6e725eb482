"""What the tests share, in one place: the repository's folders and its list of chapters, a
seeded untrained SimpleNN, small trained models (each trained once per session), a tiny random
BERT configuration, the folder for screenshots, and one headless Chromium per session for every
test that drives a browser (tests/browser/ and the book's tests in tests/tools/): Playwright's
sync API allows one instance at a time. The JupyterLab server the notebook tests need lives in
tests/browser/conftest.py.

Test modules import the constants with ``from tests.conftest import ROOT, CHAPTERS``; the
fixtures reach them by name. ``pythonpath`` in pyproject.toml puts the repository root,
tests/browser/ (browser_support) and book/ (course_book) on ``sys.path``."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
# the chapters of the course, in order: notebooks/NN_topic.ipynb
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
# screenshots and other files tests leave for a person to look at (git-ignored)
ARTIFACTS = ROOT / "build" / "test-artifacts"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that takes ``chapter`` runs once for each notebook of the course."""
    if "chapter" in metafunc.fixturenames:
        metafunc.parametrize("chapter", CHAPTERS, ids=[path.stem for path in CHAPTERS])


@pytest.fixture(scope="session")
def test_artifacts() -> Path:
    """The git-ignored folder for screenshots and other test artifacts."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# --- models --------------------------------------------------------------------------------


@pytest.fixture
def model() -> Any:
    """A fresh, untrained SimpleNN initialised with seed 0 (tests may change it freely)."""
    import torch

    from course_utils.models import SimpleNN

    torch.manual_seed(0)
    return SimpleNN()


@dataclass(frozen=True)
class TrainedRun:
    """A SimpleNN after one epoch of training, and the history that training recorded."""

    model: Any
    history: Any


def train_small_model(hidden_dim: int = 64, samples: int = 6_400, seed: int = 0) -> TrainedRun:
    """A SimpleNN of ``hidden_dim`` hidden units trained one epoch on the first ``samples``
    MNIST training images; ``seed`` seeds its initial weights and the shuffle. Trains anew on
    every call: tests that only read a trained model use the ``trained_run`` fixture."""
    import torch

    from course_utils.data import load_mnist
    from course_utils.models import SimpleNN
    from course_utils.training import train_on_tensors

    torch.manual_seed(seed)
    trained = SimpleNN(hidden_dim=hidden_dim)
    data = load_mnist(True).subset(samples)
    history = train_on_tensors(trained, data, seed=seed, progress=False)
    return TrainedRun(trained, history)


@pytest.fixture(scope="session")
def trained_run() -> Any:
    """``trained_run(hidden_dim=64, samples=6_400, seed=0)``: ``train_small_model``'s result,
    trained once per session for each choice of settings and shared by every test that asks
    for it, so never change the model (copy it first)."""
    return functools.cache(train_small_model)


@pytest.fixture(scope="session")
def small_trained_model(trained_run: Any) -> Any:
    """The SimpleNN of ``trained_run()``: 64 hidden units, one epoch on 6,400 images (seed 0);
    small enough to sweep every rank of its fc1 in a unit test. Shared; do not change it."""
    return trained_run().model


# --- a tiny random BERT (transformers' own classes, nothing downloaded) ----------------------

TINY_BERT = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "max_position_embeddings": 64,
}


@pytest.fixture(scope="session")
def tiny_bert_config() -> Any:
    """``tiny_bert_config(vocab_size)``: a ``transformers.BertConfig`` two layers deep, 32 wide
    (4 heads, feed-forward 64, 64 positions); the tests of activation-aware factors and of the
    transformer helpers build their random encoders from it."""
    transformers = pytest.importorskip("transformers")
    return lambda vocab_size: transformers.BertConfig(vocab_size=vocab_size, **TINY_BERT)


# --- a headless Chromium -------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    from browser_support import INSTALL_HINT

    message = f"browser tests cannot run: {reason}; {INSTALL_HINT}"
    if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} (COURSE_REQUIRE_BROWSER=1 forbids skipping them)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium the browser tests drive; skips (or fails in CI) when there is none."""
    from browser_support import find_chromium

    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    path = find_chromium()
    if path is None:
        _unavailable("no Chromium found")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """A headless Chromium driven by Playwright, closed at the end of the session."""
    from browser_support import CHROMIUM_FLAGS
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=CHROMIUM_FLAGS,
            timeout=120_000,
        )
        try:
            yield launched
        finally:
            launched.close()
