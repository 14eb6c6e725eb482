"""The course's headline numbers, recorded by the notebooks that measure them and printed by
the main-job command (``make course``); introduced in 01_train."""

from __future__ import annotations

import json
from pathlib import Path

from course_utils.files import write_text_atomically
from course_utils.paths import artifacts_dir


def results_path() -> Path:
    return artifacts_dir() / "results.json"


def load_results() -> dict:
    """Everything recorded so far, by notebook."""
    path = results_path()
    return json.loads(path.read_text()) if path.exists() else {}


def record_results(notebook: str, **values: float | int | str) -> dict:
    """Store ``values`` under ``notebook`` in ``artifacts/results.json`` (atomic merge)."""
    results = load_results()
    results.setdefault(notebook, {}).update(values)
    write_text_atomically(results_path(), json.dumps(results, indent=2, sort_keys=True) + "\n")
    return values
