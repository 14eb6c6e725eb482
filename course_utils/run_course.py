"""The course's main job: execute every notebook top to bottom, headless, then print the
results summary. ``python -m course_utils.run_course --help``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_utils.files import write_text_atomically
from course_utils.paths import REPOSITORY_ROOT
from course_utils.results import load_results

NOTEBOOKS = REPOSITORY_ROOT / "notebooks"
BUILD = REPOSITORY_ROOT / "build" / "notebooks"


def strip_widget_state(notebook: nbformat.NotebookNode) -> None:
    """Drop saved widget state (a FigureWidget stores ~5 MB of plotly.js there); keep outputs."""
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        cell.metadata.pop("widgets", None)


def execute_notebook(source: Path, target: Path, timeout: int = 900) -> float:
    """Run ``source`` in a fresh kernel in the notebooks folder; save the result to ``target``."""
    notebook = nbformat.read(source, as_version=4)
    started = time.perf_counter()
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    elapsed = time.perf_counter() - started
    strip_widget_state(notebook)
    write_text_atomically(target, nbformat.writes(notebook) + "\n")
    return elapsed


HEADLINES = (
    ("01_train", "base_test_accuracy", "base model, one epoch: test accuracy", "{:.2%}"),
    ("01_train", "parameters", "base model: parameters", "{:,}"),
    ("04_truncate", "rank10_test_accuracy", "rank 10, no fine-tuning: test accuracy", "{:.2%}"),
    ("04_truncate", "rank10_storage_share", "rank 10: U, diag(S), Vt share of fc1", "{:.2%}"),
    (
        "05_parameter_accounting",
        "rank10_factorized_model_parameters",
        "rank-10 factorized model: parameters",
        "{:,}",
    ),
    (
        "06_fine_tune",
        "rank10_factorized_fine_tuned_one_epoch",
        "rank-10 factorized, fine-tuned 1 epoch: accuracy",
        "{:.2%}",
    ),
)


def summary() -> str:
    """The headline numbers first, then every number the notebooks recorded, one line each."""
    results = load_results()
    lines = ["Headline results:"]
    for notebook, name, label, form in HEADLINES:
        if name in results.get(notebook, {}):
            lines.append(f"  {label:50s} {form.format(results[notebook][name])}")
    parameters = results.get("01_train", {}).get("parameters")
    factorized = results.get("05_parameter_accounting", {}).get(
        "rank10_factorized_model_parameters"
    )
    if parameters and factorized:
        lines.append(
            f"  {'rank-10 factorized model: share of the base model':50s} "
            f"{factorized / parameters:.2%}"
        )
    lines.append("Everything recorded (artifacts/results.json):")
    for notebook, values in sorted(results.items()):
        for name, value in sorted(values.items()):
            shown = f"{value:.4f}" if isinstance(value, float) else f"{value}"
            lines.append(f"  {notebook:28s} {name:40s} {shown}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook, in order")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="overwrite the notebooks with their executed copies (how the stored outputs are "
        "refreshed); by default executed copies go to build/notebooks/",
    )
    arguments = parser.parse_args(argv)
    if arguments.in_place:
        # stored notebooks carry a PNG of every figure, so they read on GitHub (no JavaScript)
        os.environ["COURSE_STATIC_FIGURES"] = "1"
    paths = arguments.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        print(f"no notebooks found in {NOTEBOOKS}", file=sys.stderr)
        return 1
    for path in paths:
        if not path.exists():
            print(f"{path} does not exist", file=sys.stderr)
            return 1
        target = path if arguments.in_place else BUILD / path.name
        print(f"running {path.name} ...", end=" ", flush=True)
        print(f"{execute_notebook(path, target):.1f} s -> {target}", flush=True)
    print(summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
