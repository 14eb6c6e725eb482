"""The notebooks as stored in the repository read well without a kernel (issue 5): small, no
widget state, the outputs of one clean run, no errors, a PNG beside every plotly figure, and
the course's fixed opening (the setup call) and closing (Summary, Exercises).

These read the files only; nbval re-executes them elsewhere. A notebook saved without running
it fails here by design: refresh it with
``python -m tools.run_course --in-place notebooks/NN_topic.ipynb``."""

from __future__ import annotations

import ast
import importlib.util
import re
from functools import cache
from pathlib import Path

import nbformat
import pytest

from course_utils.exercises import NOT_ANSWERED, SOLUTION_PASSES
from course_utils.results import HEADLINES

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
MAX_BYTES = 1_000_000
REFRESH = "refresh it with `python -m tools.run_course --in-place notebooks/{name}`"

by_notebook = pytest.mark.parametrize("path", PATHS, ids=[path.stem for path in PATHS])


@cache
def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code_cells(path: Path) -> list[nbformat.NotebookNode]:
    return [cell for cell in _read(path).cells if cell.cell_type == "code"]


def _outputs(path: Path) -> list[tuple[nbformat.NotebookNode, nbformat.NotebookNode]]:
    """Every (code cell, output) pair of the stored notebook, in order."""
    return [(cell, output) for cell in _code_cells(path) for output in cell.outputs]


def test_the_course_has_notebooks() -> None:
    assert PATHS, f"no notebooks named NN_topic.ipynb in {NOTEBOOKS}"


@by_notebook
def test_is_under_one_megabyte(path: Path) -> None:
    size = path.stat().st_size
    assert size < MAX_BYTES, (
        f"{path.name} is {size:,} bytes (limit {MAX_BYTES:,}); large outputs or widget state "
        "were saved with it"
    )


@by_notebook
def test_stores_no_widget_state(path: Path) -> None:
    notebook = _read(path)
    assert "widgets" not in notebook.metadata, (
        f"{path.name} stores widget state in its metadata (plotly's FigureWidget puts all of "
        f"plotly.js there); {REFRESH.format(name=path.name)}, which strips it"
    )
    with_state = [index for index, cell in enumerate(notebook.cells) if "widgets" in cell.metadata]
    assert not with_state, f"{path.name}: cells {with_state} store widget state in their metadata"


@by_notebook
def test_holds_the_outputs_of_one_clean_run(path: Path) -> None:
    cells = _code_cells(path)
    counts = [cell.execution_count for cell in cells]
    unexecuted = [index for index, count in enumerate(counts, start=1) if count is None]
    assert not unexecuted, (
        f"{path.name}: code cells {unexecuted} (numbered among code cells) were not executed; "
        + REFRESH.format(name=path.name)
    )
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..{len(cells)} in order, so the outputs "
        f"are not from one clean top-to-bottom run; {REFRESH.format(name=path.name)}"
    )
    for cell, output in _outputs(path):
        if output.output_type == "execute_result":
            assert output.execution_count == cell.execution_count, (
                f"{path.name}: cell [{cell.execution_count}] holds a result from run "
                f"[{output.execution_count}]"
            )


@by_notebook
def test_has_no_error_outputs(path: Path) -> None:
    errors = [
        f"cell [{cell.execution_count}] {output.get('ename')}: {output.get('evalue')}"
        for cell, output in _outputs(path)
        if output.output_type == "error"
    ]
    assert not errors, f"{path.name} is stored with errors:\n" + "\n".join(errors)


@by_notebook
def test_every_plotly_figure_has_a_png(path: Path) -> None:
    missing = [
        f"cell [{cell.execution_count}]"
        for cell, output in _outputs(path)
        if "application/vnd.plotly.v1+json" in output.get("data", {})
        and "image/png" not in output.get("data", {})
    ]
    assert not missing, (
        f"{path.name}: plotly figures without a static PNG (blank on GitHub and in the HTML "
        f"build) in {missing}; {REFRESH.format(name=path.name)} on a machine with Chromium"
    )


def _is_setup_call(source: str) -> bool:
    """``from course_utils import setup`` followed by a call of ``setup()``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    imports = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module == "course_utils"
        and any(alias.name == "setup" and alias.asname is None for alias in node.names)
    ]
    calls = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "setup"
    ]
    return bool(imports and calls and min(imports) < max(calls))


@by_notebook
def test_opens_with_the_setup_call(path: Path) -> None:
    cells = _code_cells(path)
    assert cells, f"{path.name} has no code cell"
    assert _is_setup_call(cells[0].source), (
        f"{path.name}: the first code cell must be `from course_utils import setup` and "
        f"`device = setup()` (seeds, device, figures); it is:\n{cells[0].source}"
    )


def _headings(source: str) -> list[str]:
    """The texts of the markdown headings in ``source``, in order (not inside code fences)."""
    found, fenced = [], False
    for line in source.splitlines():
        if re.match(r"^ {0,3}(```|~~~)", line):
            fenced = not fenced
            continue
        match = None if fenced else re.match(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            found.append(match.group(1))
    return found


EXERCISE_HEADING = re.compile(r"Exercise (\d) · (change one number|a few lines|a small project)$")
LEVELS = ["change one number", "a few lines", "a small project"]


def _sections(path: Path) -> list[tuple[str, list[nbformat.NotebookNode]]]:
    """(heading, the cells up to the next heading) for every markdown heading, in order."""
    sections: list[tuple[str, list[nbformat.NotebookNode]]] = []
    for cell in _read(path).cells:
        headings = _headings(cell.source) if cell.cell_type == "markdown" else []
        sections += [(heading, []) for heading in headings]
        if sections and not headings:
            sections[-1][1].append(cell)
    return sections


@by_notebook
def test_closes_with_summary_exercises_and_recall_questions(path: Path) -> None:
    # Summary, Exercises (3 to 5, graded from "change one number" to "a small project"), then
    # the recall questions, and nothing after.
    headings = [heading for heading, _ in _sections(path)]
    assert "Summary" in headings, f"{path.name} has no `## Summary`"
    closing = headings[len(headings) - 1 - headings[::-1].index("Summary") :]
    exercises = [EXERCISE_HEADING.match(heading) for heading in closing[2:-1]]
    assert (
        closing[1:2] == ["Exercises"] and closing[-1:] == ["Recall questions"] and all(exercises)
    ), (
        f"{path.name}: after `## Summary` come `## Exercises`, then `### Exercise N · level` "
        f"(level one of {LEVELS}) for each exercise, then `## Recall questions`; found {closing}"
    )
    assert 3 <= len(exercises) <= 5, f"{path.name} has {len(exercises)} exercises, not 3 to 5"
    assert [int(match.group(1)) for match in exercises] == list(range(1, len(exercises) + 1))
    levels = [LEVELS.index(match.group(2)) for match in exercises]
    assert levels == sorted(levels) and levels[0] == 0 and levels[-1] == 2, (
        f"{path.name}: exercises must go from 'change one number' to 'a small project' in order"
    )


def _output_text(cell: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", "") for output in cell.outputs)


@by_notebook
def test_every_exercise_has_a_starter_and_a_folded_tested_solution(path: Path) -> None:
    for heading, cells in _sections(path):
        if not EXERCISE_HEADING.match(heading):
            continue
        code = [cell for cell in cells if cell.cell_type == "code"]
        tags = [cell.metadata.get("tags", []) for cell in code]
        starters = [
            cell for cell, cell_tags in zip(code, tags, strict=True) if "exercise" in cell_tags
        ]
        solutions = [
            cell for cell, cell_tags in zip(code, tags, strict=True) if "solution" in cell_tags
        ]
        where = f"{path.name}, {heading!r}"
        assert len(starters) == 1 and solutions, (
            f"{where}: needs one starter cell tagged `exercise` and a solution tagged `solution`"
        )
        assert code.index(starters[0]) < code.index(solutions[0]), f"{where}: solution first"
        starter = starters[0]
        assert "check(" in starter.source and (
            "..." in starter.source or "NotImplementedError" in starter.source
        ), f"{where}: the starter leaves a blank (`...`) and calls `check(answer, test)`"
        assert NOT_ANSWERED in _output_text(starter), (
            f"{where}: the stored starter cell should print the not-answered message"
        )
        assert any("check_solution(" in cell.source for cell in solutions), (
            f"{where}: the worked solution must call `check_solution(solution, test)`"
        )
        assert SOLUTION_PASSES in "".join(_output_text(cell) for cell in solutions), (
            f"{where}: the stored solution did not pass its check"
        )
        for cell in solutions:
            folded = cell.metadata.get("jupyter", {})
            assert folded.get("source_hidden") and folded.get("outputs_hidden"), (
                f"{where}: fold the solution in JupyterLab (source_hidden and outputs_hidden)"
            )


@by_notebook
def test_recall_questions_have_answers_one_click_away(path: Path) -> None:
    sections = dict(_sections(path))
    cells = [cell for cell in _read(path).cells if cell.cell_type == "markdown"]
    last = cells[-1].source
    assert _headings(last)[-1:] == ["Recall questions"], (
        f"{path.name}: the last markdown cell must hold `## Recall questions`"
    )
    answers = last.count("<details>")
    assert 5 <= answers <= 10, f"{path.name}: {answers} recall questions with answers, not 5-10"
    assert "Recall questions" in sections


def test_the_checks_recognise_the_setup_call_and_headings() -> None:
    assert _is_setup_call("from course_utils import setup\n\ndevice = setup()\ndevice")
    assert _is_setup_call("from course_utils import setup\nsetup(seed=1)")
    assert not _is_setup_call("import torch\nsetup()")
    assert not _is_setup_call("setup()\nfrom course_utils import setup")
    assert not _is_setup_call("from course_utils import setup as s\ns()")
    assert _headings("\n## Summary\n- one\n\n## Exercises #\n1. x") == ["Summary", "Exercises"]
    assert _headings("Summary\n```python\n# a comment\n```\n#no space") == []


def _root_conftest():
    """The repository's conftest.py, which holds the rules for what nbval compares."""
    spec = importlib.util.spec_from_file_location("root_conftest", NOTEBOOKS.parent / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _has_assert(cell: nbformat.NotebookNode) -> bool:
    """An ``assert`` statement, or a worked solution's ``check_solution`` (which asserts)."""
    return any(
        isinstance(node, ast.Assert)
        or (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check_solution")
        for node in ast.walk(ast.parse(cell.source))
    )


@by_notebook
def test_uncompared_outputs_use_the_course_tags_only(path: Path) -> None:
    """One mechanism decides what nbval does not compare: the tags listed in conftest.py."""
    rules = _root_conftest()
    for index, cell in enumerate(_code_cells(path)):
        for tag in rules.cell_tags(cell):
            assert not tag.startswith(("nbval-", "raises-")), (
                f"{path.name}, code cell {index}: nbval's own tag {tag!r}; use one of "
                f"{sorted(rules.UNCOMPARED_TAGS)} (see conftest.py)"
            )
        assert not re.search(r"#\s*(NBVAL|PYTEST_VALIDATE)_", cell.source), (
            f"{path.name}, code cell {index}: an nbval comment marker; use a tag from "
            "conftest.py instead"
        )


@by_notebook
def test_every_trained_output_is_asserted(path: Path) -> None:
    """A cell whose output is not compared (it comes from training) asserts its numbers, or the
    code cell right after it does."""
    cells = _code_cells(path)
    for index, cell in enumerate(cells):
        if "trained-output" not in cell.metadata.get("tags", []):
            continue
        following = cells[index + 1 : index + 2]
        assert _has_assert(cell) or any(_has_assert(c) for c in following), (
            f"{path.name}, code cell {index} is tagged trained-output but neither it nor the "
            f"next code cell asserts anything:\n{cell.source}"
        )


def _recorded_keys(path: Path) -> set[tuple[str, str]]:
    """(notebook, key) for every keyword of every ``record_results("name", key=...)`` call."""
    found = set()
    for cell in _code_cells(path):
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "record_results"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found |= {(node.args[0].value, word.arg) for word in node.keywords if word.arg}
    return found


def test_every_headline_is_recorded_by_its_notebook() -> None:
    # `make course` prints these keys from artifacts/results.json; a renamed key would vanish
    recorded = set().union(*(_recorded_keys(path) for path in PATHS))
    missing = [h for h in HEADLINES if (h.notebook, h.key) not in recorded]
    assert not missing, f"no notebook records these headline numbers: {missing}"


def _closing_notebook(tmp_path: Path, *, fold_solution: bool = True) -> Path:
    """A tiny notebook with the closing the rules above ask for."""
    cells = [
        nbformat.v4.new_markdown_cell("## Summary\n- done"),
        nbformat.v4.new_markdown_cell("## Exercises\nTry first, look second."),
    ]
    for number, level in enumerate(["change one number", "a few lines", "a small project"], 1):
        starter = nbformat.v4.new_code_cell("answer = ...\ncheck(answer, test)")
        starter.metadata["tags"] = ["exercise"]
        starter.outputs = [nbformat.v4.new_output("stream", text=NOT_ANSWERED + "\n")]
        solution = nbformat.v4.new_code_cell("check_solution(7, test)")
        solution.metadata["tags"] = ["solution"]
        solution.metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": fold_solution}
        solution.outputs = [nbformat.v4.new_output("stream", text=SOLUTION_PASSES + "\n")]
        cells += [nbformat.v4.new_markdown_cell(f"### Exercise {number} · {level}"), starter]
        cells.append(solution)
    questions = "\n".join(
        f"{n}. Why?\n<details><summary>Answer</summary>So.</details>" for n in "12345"
    )
    cells.append(nbformat.v4.new_markdown_cell(f"## Recall questions\n{questions}\n\nNext: [x](x)"))
    path = tmp_path / "99_closing.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def test_the_closing_rules_accept_a_good_closing_and_catch_an_open_solution(
    tmp_path: Path,
) -> None:
    (tmp_path / "good").mkdir()
    good = _closing_notebook(tmp_path / "good")
    test_closes_with_summary_exercises_and_recall_questions(good)
    test_every_exercise_has_a_starter_and_a_folded_tested_solution(good)
    test_recall_questions_have_answers_one_click_away(good)
    (tmp_path / "open").mkdir()
    unfolded = _closing_notebook(tmp_path / "open", fold_solution=False)
    with pytest.raises(AssertionError, match="fold the solution"):
        test_every_exercise_has_a_starter_and_a_folded_tested_solution(unfolded)
