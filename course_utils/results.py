"""The course's headline numbers, recorded by the notebooks that measure them and printed by
the main-job command (``make course``); introduced in 01_train."""

from __future__ import annotations

import json
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Headline:
    """One headline number: the notebook that records it, its key there, and how to show it."""

    notebook: str
    key: str
    label: str
    form: str

    def read(self, results: dict) -> float | int | str | None:
        """This number in ``results`` (as ``load_results`` returns them), or None."""
        return results.get(self.notebook, {}).get(self.key)


# named because `make course` also prints their ratio (tools/run_course.py)
BASE_PARAMETERS = Headline("01_train", "parameters", "base model: parameters", "{:,}")
RANK10_FACTORIZED_PARAMETERS = Headline(
    "05_parameter_accounting",
    "rank10_factorized_model_parameters",
    "rank-10 factorized model: parameters",
    "{:,}",
)
# In the order `make course` prints them.
HEADLINES = (
    Headline("01_train", "base_test_accuracy", "base model, one epoch: test accuracy", "{:.2%}"),
    BASE_PARAMETERS,
    Headline(
        "04_truncate", "rank10_test_accuracy", "rank 10, no fine-tuning: test accuracy", "{:.2%}"
    ),
    Headline(
        "04_truncate", "rank10_storage_share", "rank 10: U, diag(S), Vt share of fc1", "{:.2%}"
    ),
    RANK10_FACTORIZED_PARAMETERS,
    Headline(
        "06_fine_tune",
        "rank10_factorized_fine_tuned_one_epoch",
        "rank-10 factorized, fine-tuned 1 epoch: accuracy",
        "{:.2%}",
    ),
    Headline(
        "11_activation_aware",
        "rank10_output_error_whitened",
        "rank 10, whitened SVD: fc1 output error on test images",
        "{:.1%}",
    ),
)
