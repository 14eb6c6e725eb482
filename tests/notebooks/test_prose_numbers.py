"""Every measured number the prose of a notebook quotes comes from a cell the reader can run.

A number in a markdown cell counts as measured when it has decimals ("96.4%", "0.679", "2.6
points") or is a count of a thousand or more ("18,350"). It must match, after rounding to the
digits the prose shows, a number in the stored outputs of the same notebook or of a notebook the
prose names ("notebook 05", "05_parameter_accounting"); a share in the prose may match a fraction
in an output (96.4% and 0.9642). Targets and facts that no output needs to contain are listed in
``NOT_MEASURED`` with the reason."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import nbformat

# numbers the prose may state without an output that contains them, and why
NOT_MEASURED = {
    "0.001": "Adam's learning rate, a setting of the recipe",
    "0.0001": "a learning rate suggested in an exercise",
    "0.0003": "a learning rate suggested in an exercise",
    "0.999999": "a target share in an exercise",
    "1.0": "a target share (all of the variance)",
    "0.1": "a learning rate or a step in an exercise",
    "1.5": "a margin factor stated as a rule",
    "0.2": "the margin of 07's verdicts, a rule chosen in the notebook",
}
MEASURED = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+\.\d+)(?![\w.]*\d)")
OUTPUT_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:e-?\d+)?")
NAMED = re.compile(r"\bnotebooks? (\d\d)\b|\b(\d\d)_[a-z]")


@cache
def _notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _prose(path: Path) -> str:
    text = "\n".join(c.source for c in _notebook(path).cells if c.cell_type == "markdown")
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$", " ", text, flags=re.S)  # formulas
    return re.sub(r"\]\([^)]*\)", "]", text)  # link targets


def _output_text(path: Path) -> str:
    parts = []
    for cell in _notebook(path).cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(output.text)
            elif "data" in output:
                parts.append(str(output.data.get("text/plain", "")))
                parts.append(str(output.data.get("text/html", "")))
    return "\n".join(parts)


def _output_numbers(paths: list[Path]) -> set[float]:
    numbers = set()
    for path in paths:
        for match in OUTPUT_NUMBER.findall(_output_text(path)):
            try:
                numbers.add(float(match.replace(",", "")))
            except ValueError:
                continue
    return numbers


def _sources(path: Path) -> list[Path]:
    """The notebook itself and every notebook of its folder that its prose names."""
    named = {a or b for a, b in NAMED.findall(_prose(path))}
    others = sorted(path.parent.glob("[0-9][0-9]_*.ipynb"))
    return [path] + [p for p in others if p.name[:2] in named and p != path]


def _matches(quoted: str, numbers: set[float]) -> bool:
    value = float(quoted.replace(",", ""))
    digits = len(quoted.split(".")[1]) if "." in quoted else 0
    for number in numbers:
        for candidate in (number, number * 100, number / 100, number / 1e3, number / 1e6):
            if round(candidate, digits) == round(value, digits):
                return True
    return False


def unsupported_numbers(path: Path) -> list[str]:
    """Measured-looking numbers in the prose of ``path`` that no stored output supports."""
    numbers = _output_numbers(_sources(path))
    found = []
    for quoted in MEASURED.findall(_prose(path)):
        if quoted in NOT_MEASURED:
            continue
        if "," not in quoted and "." not in quoted:
            continue
        if "," in quoted and float(quoted.replace(",", "")) < 1000:
            continue
        if not _matches(quoted, numbers):
            found.append(quoted)
    return sorted(set(found))


def test_every_number_in_the_prose_comes_from_an_output(chapter: Path) -> None:
    missing = unsupported_numbers(chapter)
    assert not missing, (
        f"{chapter.name} quotes {missing} in its text, but no stored output of it (or of the "
        "notebooks it names) contains them: compute them in a cell, or list a target in "
        "NOT_MEASURED with the reason"
    )


def test_the_check_finds_a_number_no_output_contains(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("It reaches 96.4% with 18,350 parameters, not 95.6%."),
        nbformat.v4.new_code_cell(
            "x",
            outputs=[
                nbformat.v4.new_output(
                    "execute_result", data={"text/plain": "(0.9642, 18350)"}, execution_count=1
                )
            ],
        ),
    ]
    path = tmp_path / "99_probe.ipynb"
    nbformat.write(notebook, path)
    assert unsupported_numbers(path) == ["95.6"]
