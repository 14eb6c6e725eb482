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


def summary() -> str:
    """The headline numbers the notebooks recorded, one line each."""
    lines = ["Results (recorded by the notebooks in artifacts/results.json):"]
    for notebook, values in sorted(load_results().items()):
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
