"""The notebooks as stored in the repository read well without a kernel (issue 5): small, no
widget state, the outputs of one clean run, no errors, a PNG beside every plotly figure, and
the course's fixed opening (the setup call) and closing (Summary, Exercises).

These read the files only; nbval re-executes them elsewhere. A notebook saved without running
it fails here by design: refresh it with
``python -m tools.run_course --in-place notebooks/NN_topic.ipynb``."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import nbformat
import pytest

from course_utils.exercises import NOT_ANSWERED, SOLUTION_PASSES
from course_utils.results import HEADLINES
from tests.conftest import CHAPTERS, NOTEBOOKS

MAX_BYTES = 1_000_000
REFRESH = "refresh it with `python -m tools.run_course --in-place notebooks/{name}`"


@cache
def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code_cells(path: Path) -> list[nbformat.NotebookNode]:
    return [cell for cell in _read(path).cells if cell.cell_type == "code"]


def _outputs(path: Path) -> list[tuple[nbformat.NotebookNode, nbformat.NotebookNode]]:
    """Every (code cell, output) pair of the stored notebook, in order."""
    return [(cell, output) for cell in _code_cells(path) for output in cell.outputs]


def test_the_course_has_notebooks() -> None:
    assert CHAPTERS, f"no notebooks named NN_topic.ipynb in {NOTEBOOKS}"


def test_is_under_one_megabyte(chapter: Path) -> None:
    size = chapter.stat().st_size
    assert size < MAX_BYTES, (
        f"{chapter.name} is {size:,} bytes (limit {MAX_BYTES:,}); large outputs or widget state "
        "were saved with it"
    )


def test_stores_no_widget_state(chapter: Path) -> None:
    notebook = _read(chapter)
    assert "widgets" not in notebook.metadata, (
        f"{chapter.name} stores widget state in its metadata (plotly's FigureWidget puts all of "
        f"plotly.js there); {REFRESH.format(name=chapter.name)}, which strips it"
    )
    with_state = [index for index, cell in enumerate(notebook.cells) if "widgets" in cell.metadata]
    assert not with_state, (
        f"{chapter.name}: cells {with_state} store widget state in their metadata"
    )


def test_holds_the_outputs_of_one_clean_run(chapter: Path) -> None:
    cells = _code_cells(chapter)
    counts = [cell.execution_count for cell in cells]
    unexecuted = [index for index, count in enumerate(counts, start=1) if count is None]
    assert not unexecuted, (
        f"{chapter.name}: code cells {unexecuted} (numbered among code cells) were not executed; "
        + REFRESH.format(name=chapter.name)
    )
    assert counts == list(range(1, len(cells) + 1)), (
        f"{chapter.name}: execution counts {counts} are not 1..{len(cells)} in order, so the "
        f"outputs are not from one clean top-to-bottom run; {REFRESH.format(name=chapter.name)}"
    )
    for cell, output in _outputs(chapter):
        if output.output_type == "execute_result":
            assert output.execution_count == cell.execution_count, (
                f"{chapter.name}: cell [{cell.execution_count}] holds a result from run "
                f"[{output.execution_count}]"
            )


def test_has_no_error_outputs(chapter: Path) -> None:
    errors = [
        f"cell [{cell.execution_count}] {output.get('ename')}: {output.get('evalue')}"
        for cell, output in _outputs(chapter)
        if output.output_type == "error"
    ]
    assert not errors, f"{chapter.name} is stored with errors:\n" + "\n".join(errors)


def test_every_plotly_figure_has_a_png(chapter: Path) -> None:
    missing = [
        f"cell [{cell.execution_count}]"
        for cell, output in _outputs(chapter)
        if "application/vnd.plotly.v1+json" in output.get("data", {})
        and "image/png" not in output.get("data", {})
    ]
    assert not missing, (
        f"{chapter.name}: plotly figures without a static PNG (blank on GitHub and in the HTML "
        f"build) in {missing}; {REFRESH.format(name=chapter.name)} on a machine with Chromium"
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


def test_opens_with_the_setup_call(chapter: Path) -> None:
    cells = _code_cells(chapter)
    assert cells, f"{chapter.name} has no code cell"
    assert _is_setup_call(cells[0].source), (
        f"{chapter.name}: the first code cell must be `from course_utils import setup` and "
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


def test_closes_with_summary_exercises_and_recall_questions(chapter: Path) -> None:
    # Summary, Exercises (3 to 5, graded from "change one number" to "a small project"), then
    # the recall questions, and nothing after.
    headings = [heading for heading, _ in _sections(chapter)]
    assert "Summary" in headings, f"{chapter.name} has no `## Summary`"
    closing = headings[len(headings) - 1 - headings[::-1].index("Summary") :]
    exercises = [EXERCISE_HEADING.match(heading) for heading in closing[2:-1]]
    assert (
        closing[1:2] == ["Exercises"] and closing[-1:] == ["Recall questions"] and all(exercises)
    ), (
        f"{chapter.name}: after `## Summary` come `## Exercises`, then `### Exercise N · level` "
        f"(level one of {LEVELS}) for each exercise, then `## Recall questions`; found {closing}"
    )
    assert 3 <= len(exercises) <= 5, f"{chapter.name} has {len(exercises)} exercises, not 3 to 5"
    assert [int(match.group(1)) for match in exercises] == list(range(1, len(exercises) + 1))
    levels = [LEVELS.index(match.group(2)) for match in exercises]
    assert levels == sorted(levels) and levels[0] == 0 and levels[-1] == 2, (
        f"{chapter.name}: exercises must go from 'change one number' to 'a small project' in order"
    )


def _output_text(cell: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", "") for output in cell.outputs)


def test_every_exercise_has_a_starter_and_a_folded_tested_solution(chapter: Path) -> None:
    for heading, cells in _sections(chapter):
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
        where = f"{chapter.name}, {heading!r}"
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


def test_recall_questions_have_answers_one_click_away(chapter: Path) -> None:
    cells = [cell for cell in _read(chapter).cells if cell.cell_type == "markdown"]
    last = cells[-1].source
    assert _headings(last)[-1:] == ["Recall questions"], (
        f"{chapter.name}: the last markdown cell must hold `## Recall questions`"
    )
    answers = last.count("<details>")
    assert 5 <= answers <= 10, f"{chapter.name}: {answers} recall questions with answers, not 5-10"
    assert last.count("</details>") == answers, (
        f"{chapter.name}: an answer's <details> is not closed, so it swallows what follows"
    )


def test_the_checks_recognise_the_setup_call_and_headings() -> None:
    assert _is_setup_call("from course_utils import setup\n\ndevice = setup()\ndevice")
    assert _is_setup_call("from course_utils import setup\nsetup(seed=1)")
    assert not _is_setup_call("import torch\nsetup()")
    assert not _is_setup_call("setup()\nfrom course_utils import setup")
    assert not _is_setup_call("from course_utils import setup as s\ns()")
    assert _headings("\n## Summary\n- one\n\n## Exercises #\n1. x") == ["Summary", "Exercises"]
    assert _headings("Summary\n```python\n# a comment\n```\n#no space") == []


def _has_assert(cell: nbformat.NotebookNode) -> bool:
    """An ``assert`` statement, or a worked solution's ``check_solution`` (which asserts)."""
    return any(
        isinstance(node, ast.Assert)
        or (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check_solution")
        for node in ast.walk(ast.parse(cell.source))
    )


def test_cells_carry_only_the_course_tags(chapter: Path, cell_tag_rules: dict) -> None:
    """One mechanism decides what nbval does not compare: the tags listed in conftest.py. A tag
    it does not list (nbval's own `nbval-skip`, a typo such as `trained_output`) would silently
    change nothing, or bypass it."""
    known = cell_tag_rules["uncompared"].keys() | cell_tag_rules["compared"].keys()
    for index, cell in enumerate(_read(chapter).cells):
        unknown = set(cell.metadata.get("tags", [])) - known
        assert not unknown, (
            f"{chapter.name}, cell {index}: tags {sorted(unknown)} are not the course's; use "
            f"{sorted(cell_tag_rules['uncompared'])} for outputs nbval must not compare, "
            f"or {sorted(cell_tag_rules['compared'])} (see conftest.py)"
        )
    for index, cell in enumerate(_code_cells(chapter)):
        assert not re.search(r"#\s*(NBVAL|PYTEST_VALIDATE)_", cell.source), (
            f"{chapter.name}, code cell {index}: an nbval comment marker; use a tag from "
            "conftest.py instead"
        )


def test_every_trained_output_is_asserted(chapter: Path) -> None:
    """A cell whose output is not compared (it comes from training) asserts its numbers, or the
    code cell right after it does."""
    cells = _code_cells(chapter)
    for index, cell in enumerate(cells):
        if "trained-output" not in cell.metadata.get("tags", []):
            continue
        following = cells[index + 1 : index + 2]
        assert _has_assert(cell) or any(_has_assert(c) for c in following), (
            f"{chapter.name}, code cell {index} is tagged trained-output but neither it nor the "
            f"next code cell asserts anything:\n{cell.source}"
        )


# --- asides and reading time ------------------------------------------------------------------

OPTIONAL = "optional"
ASIDE_HEADING = re.compile(r"^### Optional: \S")
MAIN_PATH_WORDS = 2_600  # about 25 minutes of reading


def _is_optional(cell: nbformat.NotebookNode) -> bool:
    return OPTIONAL in cell.metadata.get("tags", [])


def aside_problems(notebook: nbformat.NotebookNode) -> list[str]:
    """What is wrong with the notebook's asides: each run of cells tagged ``optional`` opens
    with a markdown cell headed ``### Optional: <title>`` and holds no other heading of level 1
    to 3 (that would carry a main-path section off with it); every such heading is tagged."""
    problems = []
    cells = notebook.cells
    for index, cell in enumerate(cells):
        opens_aside = cell.cell_type == "markdown" and bool(
            ASIDE_HEADING.match(cell.source.lstrip())
        )
        if opens_aside and not _is_optional(cell):
            problems.append(f"cell {index} opens an aside but is not tagged `optional`")
        if not _is_optional(cell):
            continue
        starts_run = index == 0 or not _is_optional(cells[index - 1])
        if starts_run and not opens_aside:
            problems.append(
                f"cell {index} starts a run of `optional` cells without the aside's heading "
                "(a markdown cell beginning `### Optional: <title>`)"
            )
        if cell.cell_type == "markdown":
            levels = [
                len(match.group(1)) for match in re.finditer(r"(?m)^ {0,3}(#{1,6})\s", cell.source)
            ]
            if any(level <= 3 for level in levels[1 if opens_aside else 0 :]):
                problems.append(f"cell {index}, inside an aside, holds a heading of level 1-3")
    return problems


def main_path_words(notebook: nbformat.NotebookNode) -> int:
    """Words (``\\w+`` runs) of markdown and code source before the first `## Summary` cell,
    cells tagged ``optional`` left out (the rule of the reading-time budget)."""
    words = 0
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## Summary"):
            break
        if cell.cell_type in ("markdown", "code") and not _is_optional(cell):
            words += len(re.findall(r"\w+", cell.source))
    return words


def test_every_aside_is_tagged_and_headed(chapter: Path) -> None:
    problems = aside_problems(_read(chapter))
    assert not problems, f"{chapter.name}: " + "; ".join(problems)


def test_the_main_path_reads_in_25_minutes(chapter: Path) -> None:
    words = main_path_words(_read(chapter))
    assert words <= MAIN_PATH_WORDS, (
        f"{chapter.name}: the main path (markdown and code before `## Summary`, asides tagged "
        f"`optional` left out) is {words:,} words, over {MAIN_PATH_WORDS:,}: cut wordiness, "
        "or move a true aside into a `### Optional:` section"
    )


def test_the_aside_and_reading_time_rules_catch_what_they_should() -> None:
    def markdown(source: str, *tags: str) -> nbformat.NotebookNode:
        return nbformat.v4.new_markdown_cell(source, metadata={"tags": list(tags)})

    code = nbformat.v4.new_code_cell("x = 1  # four words", metadata={"tags": [OPTIONAL]})
    good = nbformat.v4.new_notebook(
        cells=[
            markdown("# 99 · Title\nOne two."),
            markdown("### Optional: a side trip\nNot on the path.", OPTIONAL),
            code,
            markdown("#### A detail of the aside", OPTIONAL),
            markdown("## Back on the path\nThree."),
            nbformat.v4.new_code_cell("w_k = f(a, b)  # don't"),
            markdown("## Summary\nNot counted."),
        ]
    )
    assert aside_problems(good) == []
    # words are \w+ runs, not whitespace-separated pieces: "#", "·", "=" and "(" are none,
    # "two." is one and "don't" two; "99 Title One two", "Back on the path Three",
    # "w_k f a b don t"
    assert main_path_words(good) == 4 + 5 + 6
    untagged = markdown("### Optional: forgotten\ntext")
    headless = markdown("An aside without its heading", OPTIONAL)
    swallowing = markdown("### Optional: x\n## A main section", OPTIONAL)
    bad = nbformat.v4.new_notebook(cells=[untagged, headless, markdown("between"), swallowing])
    found = aside_problems(bad)
    assert [re.match(r"cell (\d+)", problem).group(1) for problem in found] == ["0", "1", "3"]


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
    recorded = set().union(*(_recorded_keys(path) for path in CHAPTERS))
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
