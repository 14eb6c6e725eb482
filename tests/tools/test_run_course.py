"""The main job (`make course`, tools/run_course.py): its summary, its one-line failures, and the
PNGs it adds when it refreshes the stored notebooks."""

import base64
import re
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_utils.results import record_results
from tests.conftest import ROOT
from tools.execute import run_notebook
from tools.run_course import main, strip_widget_state, summary
from tools.static_figures import PLOTLY, PNG, add_static_pngs


def test_summary_leads_with_the_headline_numbers(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path))
    record_results("01_train", base_test_accuracy=0.964, parameters=397_510)
    record_results("05_parameter_accounting", rank10_factorized_model_parameters=18_350)
    text = summary()
    assert text.startswith("Headline results:")
    assert "96.40%" in text and "397,510" in text and "18,350" in text
    assert "4.62%" in text  # 18,350 / 397,510
    assert "rank 10, no fine-tuning" not in text  # nothing recorded, nothing invented


def test_summary_shows_only_the_notebooks_that_ran(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path))
    record_results("01_train", base_test_accuracy=0.964)
    record_results("08_transformer", original_parameters=22_713_216)  # left by an old run
    text = summary(["01_train"])
    assert "96.40%" in text and "08_transformer" not in text and "22713216" not in text


def test_summary_without_results_still_prints(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path))
    assert summary().splitlines() == [
        "Headline results:",
        "Everything recorded (artifacts/results.json):",
    ]


def test_a_missing_notebook_is_an_error_not_a_crash(tmp_path, capsys):
    assert main([str(tmp_path / "99_missing.ipynb")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_strip_widget_state_keeps_outputs():
    notebook = new_notebook()
    notebook.metadata["widgets"] = {"state": "5 MB of plotly.js"}
    notebook.cells.append(new_code_cell("1", outputs=[new_output("stream", text="x")]))
    strip_widget_state(notebook)
    assert "widgets" not in notebook.metadata
    assert notebook.cells[0].outputs[0].text == "x"


def _write(path: Path, *sources: str) -> Path:
    cells = [new_markdown_cell("# A tiny notebook")] + [new_code_cell(s) for s in sources]
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_a_failing_cell_is_named_in_one_line(tmp_path):
    path = _write(
        tmp_path / "98_fails.ipynb", "x = 1", "y = x + 1\nraise ValueError('no good\\nmore')"
    )
    run = run_notebook(path, tmp_path, timeout=60, progress=False)
    assert run.notebook.cells[1].outputs == []  # the first cell ran
    assert str(run.failure) == "FAILED 98_fails.ipynb, cell 2 (y = x + 1): ValueError: no good"


def test_the_course_runs_on_after_a_failure_and_exits_non_zero(tmp_path, monkeypatch):
    artifacts, build = tmp_path / "artifacts", tmp_path / "build"
    failing = _write(tmp_path / "01_fails.ipynb", "1 / 0")
    passing = _write(tmp_path / "02_passes.ipynb", "print('ran')")
    # the kernel inherits the environment: the notebook records nothing into the real artifacts
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(artifacts))
    finished = subprocess.run(
        [sys.executable, "-c", _RUN.format(build=str(build)), str(failing), str(passing)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode == 1, output
    failures = [line for line in output.splitlines() if line.startswith("FAILED")]
    assert failures == [
        "FAILED 01_fails.ipynb, cell 1 (1 / 0): ZeroDivisionError: division by zero"
    ]
    assert "02_passes.ipynb:" in finished.stdout and "Headline results:" in finished.stdout
    assert "1 of 2 notebook(s) failed: 01_fails.ipynb" in finished.stderr
    assert "without encryption" not in output and "Traceback" not in output
    executed = nbformat.read(build / "02_passes.ipynb", as_version=4)
    assert executed.cells[1].outputs[0].text == "ran\n"


# run_course.main with its build folder redirected, so the test writes nothing into the checkout
_RUN = (
    "import sys; from pathlib import Path; from tools import run_course; "
    "run_course.BUILD = Path({build!r}); "
    "sys.exit(run_course.main(sys.argv[1:] + ['--no-progress']))"
)


def test_every_plotly_figure_gets_a_png_and_existing_pngs_stay():
    figure = {"data": [{"type": "bar", "y": [1, 2]}], "layout": {}}
    with_png = new_output("display_data", data={PLOTLY: figure, PNG: "c3RvcmVk"})
    without = new_output("display_data", data={PLOTLY: figure, "text/plain": "Figure"})
    text = new_output("stream", text="no figure")
    notebook = new_notebook(cells=[new_code_cell("f", outputs=[with_png, without, text])])
    drawn = []

    def render(figure_json: dict) -> bytes:
        drawn.append(figure_json)
        return b"\x89PNG"

    assert add_static_pngs(notebook, render) == 1
    outputs = notebook.cells[0].outputs
    assert drawn == [figure]
    assert outputs[0].data[PNG] == "c3RvcmVk"
    assert base64.b64decode(outputs[1].data[PNG]) == b"\x89PNG"
    assert "data" not in outputs[2]


def test_the_course_package_needs_no_notebook_tooling():
    # the notebooks import course_utils; executing and converting notebooks is tools/' job
    tooling = re.compile(r"^\s*(import|from) (nbclient|nbformat|nbconvert|kaleido)\b", re.M)
    offenders = [
        path.name
        for path in sorted((ROOT / "course_utils").glob("*.py"))
        if tooling.search(path.read_text())
    ]
    assert offenders == []
