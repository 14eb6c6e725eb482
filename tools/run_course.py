"""The course's main job (``make course``): execute every notebook top to bottom, headless,
then print the results summary. ``python -m tools.run_course --help``.

A failing cell is reported in one line (notebook, cell, error); the other notebooks still run,
and the command exits with status 1. ``--in-place`` refreshes the stored notebooks: it adds a
PNG beside every plotly figure (kaleido) and strips saved widget state."""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path

import nbformat

from course_utils.files import write_text_atomically
from course_utils.paths import REPOSITORY_ROOT
from course_utils.results import (
    BASE_PARAMETERS,
    HEADLINES,
    RANK10_FACTORIZED_PARAMETERS,
    load_results,
)
from tools.execute import CellFailure, run_notebook
from tools.static_figures import add_static_pngs, kaleido_running

NOTEBOOKS = REPOSITORY_ROOT / "notebooks"
BUILD = REPOSITORY_ROOT / "build" / "notebooks"


def strip_widget_state(notebook: nbformat.NotebookNode) -> None:
    """Drop saved widget state (a FigureWidget stores ~5 MB of plotly.js there); keep outputs."""
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        cell.metadata.pop("widgets", None)


def save(notebook: nbformat.NotebookNode, target: Path) -> None:
    strip_widget_state(notebook)
    write_text_atomically(target, nbformat.writes(notebook) + "\n")


def summary(ran: list[str] | None = None) -> str:
    """The headline numbers first, then every number the notebooks recorded, one line each;
    with ``ran`` (notebook names without .ipynb), only what those notebooks recorded, so a
    result left by an earlier run (or a renamed notebook) is not shown as this run's."""
    results = load_results()
    if ran is not None:
        results = {notebook: values for notebook, values in results.items() if notebook in ran}
    lines = ["Headline results:"]
    for headline in HEADLINES:
        value = headline.read(results)
        if value is not None:
            lines.append(f"  {headline.label:50s} {headline.form.format(value)}")
    parameters = BASE_PARAMETERS.read(results)
    factorized = RANK10_FACTORIZED_PARAMETERS.read(results)
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


def run_all(paths: list[Path], in_place: bool, progress: bool = True) -> list[CellFailure]:
    """Run each notebook; save it to build/notebooks/ (or over itself with ``in_place``, only
    when it ran cleanly). Returns the failures, one per failed notebook."""
    failures = []
    with kaleido_running() if in_place else nullcontext(False) as pngs:
        for path in paths:
            run = run_notebook(path, NOTEBOOKS, progress=progress)
            if run.failure is not None:
                failures.append(run.failure)
                print(run.failure, flush=True)
                if not in_place:
                    save(run.notebook, BUILD / path.name)
                continue
            added = add_static_pngs(run.notebook) if in_place and pngs else 0
            target = path if in_place else BUILD / path.name
            save(run.notebook, target)
            note = f", {added} PNG figure(s)" if in_place else ""
            print(f"{path.name}: {run.seconds:.1f} s{note} -> {target}", flush=True)
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook, in order")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="overwrite the notebooks with their executed copies, with a PNG beside every figure "
        "(how the stored outputs are refreshed); by default executed copies go to "
        "build/notebooks/",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    arguments = parser.parse_args(argv)
    paths = arguments.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        print(f"no notebooks found in {NOTEBOOKS}", file=sys.stderr)
        return 1
    missing = [path for path in paths if not path.exists()]
    if missing:
        print(f"{', '.join(map(str, missing))} does not exist", file=sys.stderr)
        return 1
    failures = run_all(paths, arguments.in_place, progress=not arguments.no_progress)
    failed = {failure.notebook for failure in failures}
    print(summary([path.stem for path in paths if path.name not in failed]))
    if failures:
        names = ", ".join(failure.notebook for failure in failures)
        print(f"{len(failures)} of {len(paths)} notebook(s) failed: {names}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
