"""The static HTML build (``make html``, tools/html_build.py): every stored notebook
becomes a page with its title and its figures as embedded PNGs, nothing is executed, and the
index links every page in order."""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools.html_build import (
    NOTEBOOKS,
    HtmlBuildError,
    build_html,
    find_notebooks,
    main,
    notebook_title,
)

STORED = [path.name for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))]
EMBEDDED_PNG = re.compile(r'<img\b[^>]*?\ssrc="data:image/png;base64,[A-Za-z0-9+/]')
# the smallest valid PNG: one transparent pixel
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA"
    "60e6kgAAAABJRU5ErkJggg=="
)


def _forbid_execution(*args, **kwargs):
    raise AssertionError("the HTML build must not execute notebooks")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The real course built once into a temporary folder, with every way nbconvert could run a
    kernel made to fail, and the stored notebooks' bytes before and after."""
    import nbclient
    from nbconvert.preprocessors import ExecutePreprocessor

    output = tmp_path_factory.mktemp("html")
    before = {name: (NOTEBOOKS / name).read_bytes() for name in STORED}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nbclient.NotebookClient, "execute", _forbid_execution)
        patch.setattr(nbclient.NotebookClient, "async_execute", _forbid_execution)
        patch.setattr(ExecutePreprocessor, "preprocess", _forbid_execution)
        pages = build_html(NOTEBOOKS, output)
    return {
        "output": output,
        "pages": {page.notebook.name: page for page in pages},
        "before": before,
        "after": {name: (NOTEBOOKS / name).read_bytes() for name in STORED},
    }


def _png_outputs(notebook: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


@pytest.mark.parametrize("name", STORED)
def test_each_page_has_its_title_and_figures(built: dict, name: str) -> None:
    stored = nbformat.reads(built["before"][name].decode("utf-8"), as_version=4)
    page = built["output"] / f"{Path(name).stem}.html"
    assert page.is_file(), f"no page for {name}"
    text = page.read_text(encoding="utf-8")

    title = notebook_title(stored)
    assert title, f"{name} has no markdown heading to serve as its title"
    assert f"<title>{html.escape(title, quote=False)}</title>" in text
    assert re.search(r"<h1[^>]*>\s*" + re.escape(html.escape(title, quote=False)), text), (
        f"{name}: the page does not show its heading {title!r}"
    )

    expected = _png_outputs(stored)
    shown = len(EMBEDDED_PNG.findall(text))
    assert shown >= expected, f"{name}: {expected} stored PNG figures, {shown} embedded in HTML"
    if expected:
        assert shown >= 1
    # the figures are the PNGs; no plotly JSON or plotly.js that would need the network
    assert "application/vnd.plotly.v1+json" not in text
    assert "plotly-graph-div" not in text


def test_the_build_executes_nothing_and_leaves_the_notebooks_alone(built: dict) -> None:
    assert built["after"] == built["before"]
    assert sorted(built["pages"]) == STORED


def test_formulas_are_typeset_by_a_local_mathjax(built: dict) -> None:
    output = built["output"]
    assert (output / "mathjax" / "MathJax.js").is_file()
    assert (output / "mathjax" / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()
    for name in STORED:
        page = (output / f"{Path(name).stem}.html").read_text(encoding="utf-8")
        sources = re.findall(r'<script src="([^"]*MathJax[^"]*)"', page, flags=re.IGNORECASE)
        assert sources == ["mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"], name
        assert "mathjax/2.7.7" not in page, name  # nbconvert's CDN copy


def test_index_links_every_page_in_order(built: dict) -> None:
    index = (built["output"] / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<a href="([^"]+)">([^<]*)</a>', index)
    assert [href for href, _ in links] == [f"{Path(name).stem}.html" for name in STORED]
    for (href, label), name in zip(links, STORED, strict=True):
        assert html.unescape(label) == built["pages"][name].title
        assert (built["output"] / href).is_file()


def _write(folder: Path, name: str, notebook: nbformat.NotebookNode) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(notebook, path)
    return path


def test_code_is_not_run_and_outputs_are_made_static(tmp_path: Path) -> None:
    sentinel = tmp_path / "ran.txt"
    figure = new_output(
        "display_data",
        data={
            "application/vnd.plotly.v1+json": {
                "data": [],
                "layout": {"title": {"text": "A <b>T</b>"}},
            },
            "text/html": '<div class="plotly-graph-div"></div>',
            "image/png": PIXEL,
        },
    )
    slider = new_output(
        "display_data",
        data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2},
            "text/plain": "VBox(children=(IntSlider(value=10),))",
        },
    )
    progress = new_output(
        "display_data",
        data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "y", "version_major": 2},
            "text/plain": "training: 100%",
        },
    )
    notebook = new_notebook(
        cells=[
            new_markdown_cell("Some intro\n\n## Probe & title"),
            new_code_cell(f"open({str(sentinel)!r}, 'w').write('x')\nprint('ran' + 'here')"),
            new_code_cell("figure.show()", outputs=[figure], execution_count=1),
            new_code_cell("slider", outputs=[slider, progress], execution_count=2),
        ]
    )
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    _write(tmp_path / "notebooks", "01_probe.ipynb", notebook)

    [page] = build_html(tmp_path / "notebooks", tmp_path / "html")
    text = page.html.read_text(encoding="utf-8")
    assert not sentinel.exists()
    assert "ranhere" not in text
    assert page.title == "Probe & title" and page.unexecuted_cells == 1 and page.figures == 1
    assert "<title>Probe &amp; title</title>" in text
    assert len(EMBEDDED_PNG.findall(text)) == 1
    assert 'alt="A T"' in text  # the figure's title, its markup removed
    assert "plotly-graph-div" not in text and "vnd.plotly" not in text
    assert "VBox(children" not in text and "An interactive widget (VBox)" in text
    assert "training: 100%" in text  # a widget's useful text fallback is kept
    assert "widget-state" not in text


def test_a_plotly_figure_without_png_is_an_error(tmp_path: Path) -> None:
    figure = new_output("display_data", data={"application/vnd.plotly.v1+json": {"data": []}})
    notebook = new_notebook(
        cells=[new_markdown_cell("# T"), new_code_cell("f", outputs=[figure], execution_count=1)]
    )
    _write(tmp_path / "notebooks", "01_blank_figure.ipynb", notebook)
    with pytest.raises(HtmlBuildError, match=r"01_blank_figure\.ipynb, cell 1 .*without a PNG"):
        build_html(tmp_path / "notebooks", tmp_path / "html")
    assert not (tmp_path / "html" / "index.html").exists()


def test_a_missing_notebooks_folder_is_a_clear_error(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(HtmlBuildError, match="does not exist"):
        find_notebooks(missing)
    assert main(["--notebooks", str(missing), "--output", str(tmp_path / "out")]) == 1
    assert f"notebooks folder {missing} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_command_writes_into_the_chosen_folder(tmp_path: Path, capsys) -> None:
    _write(tmp_path / "nb", "02_b.ipynb", new_notebook(cells=[new_markdown_cell("# Second")]))
    _write(tmp_path / "nb", "01_a.ipynb", new_notebook(cells=[new_markdown_cell("# First")]))
    assert main(["--notebooks", str(tmp_path / "nb"), "--output", str(tmp_path / "site")]) == 0
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == [
        "01_a.html",
        "02_b.html",
        "index.html",
        "mathjax",
    ]
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert index.index("First") < index.index("Second")
    assert "01_a.ipynb ->" in capsys.readouterr().out
