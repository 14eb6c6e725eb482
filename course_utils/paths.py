"""Where the course keeps its shipped data and its rebuilt artefacts (01_train)."""

from __future__ import annotations

import os
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The folder holding ``mnist/`` (override with the ``COURSE_DATA_DIR`` variable)."""
    return Path(os.environ.get("COURSE_DATA_DIR", REPOSITORY_ROOT / "data"))


def artifacts_dir() -> Path:
    """The git-ignored folder for cached models and results (``COURSE_ARTIFACTS_DIR``)."""
    return Path(os.environ.get("COURSE_ARTIFACTS_DIR", REPOSITORY_ROOT / "artifacts"))
