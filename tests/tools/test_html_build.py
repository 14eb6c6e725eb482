"""The course's website (``make html``: Sphinx, MyST-NB and sphinx-book-theme, configured in
book/). The real course is built once per session into a temporary folder, with every way
MyST-NB could run a kernel made to fail: one page per stored notebook with its title, its
figures as PNG images, a download link to the notebook, the licence footer, collapsed inputs
behind toggles, a local MathJax and nothing loaded from another host. A small made-up course
checks that the table of contents follows the notebooks folder and that ``solution`` cells are
folded. The ``browser`` tests then open the site in headless Chromium, served from 127.0.0.1
with every other request blocked: formulas typeset, a figure shows, search finds a word, the
toggle opens, and the page has a dark mode (screenshots in build/test-artifacts/)."""

from __future__ import annotations

import functools
import html
import http.server
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import course_book
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tests.conftest import CHAPTERS, NOTEBOOKS, ROOT

BOOK = ROOT / "book"
STORED = [path.name for path in CHAPTERS]
HEADING = re.compile(r"^ {0,3}#[ \t]+(.+?)[ \t]*$", re.MULTILINE)
PAGE_IMAGE = re.compile(r'<img\b[^>]*\ssrc="\.\./_images/([0-9a-f]+\.png)"')
EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe|source)\b[^>]*\s(?:src|href)=[\"'](?:https?:)?//", re.I
)
# a cell whose input the book folds (hide-input): its container, then the toggle
HIDDEN_INPUT = re.compile(
    r'<div class="cell [^"]*\btag_hide-input\b[^"]*">\s*<details class="[^"]*\bhide\b'
)
SOLUTION_TOGGLE = re.compile(
    r'<div class="cell [^"]*\btag_solution\b[^"]*\btag_hide-cell\b[^"]*">'
    r'\s*<details class="[^"]*\bhide\b'
)
MATHJAX_SCRIPT = "_static/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
# the smallest valid PNG: one transparent pixel
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA"
    "60e6kgAAAABJRU5ErkJggg=="
)


# sphinx-build (as make html runs it) in a fresh interpreter, with every way nbclient could run
# a kernel replaced by an error first: a build that executes a notebook fails.
BUILD_WITHOUT_KERNELS = """
import sys
import nbclient
from sphinx.cmd.build import build_main

def forbid(*args, **kwargs):
    raise AssertionError("the book must not execute notebooks")

nbclient.NotebookClient.execute = forbid
nbclient.NotebookClient.async_execute = forbid
sys.exit(build_main(sys.argv[1:]))
"""


def build_book(source: Path, output: Path) -> str:
    """Build the book from ``source`` (a folder laid out like the repository) into ``output``
    with book/conf.py, as ``make html`` does; returns what Sphinx wrote (warnings), and fails
    the test if the build fails."""
    command = [sys.executable, "-c", BUILD_WITHOUT_KERNELS, "-b", "html", "-q", "--no-color"]
    command += ["-c", str(BOOK), str(source), str(output)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"sphinx-build failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="session")
def book(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The real course built once, and the stored notebooks' bytes before and after."""
    output = tmp_path_factory.mktemp("book")
    before = {name: (NOTEBOOKS / name).read_bytes() for name in STORED}
    warnings = build_book(ROOT, output)
    return {
        "output": output,
        "warnings": warnings,
        "before": before,
        "after": {name: (NOTEBOOKS / name).read_bytes() for name in STORED},
    }


def _page(book: dict, name: str) -> str:
    return (book["output"] / "notebooks" / f"{Path(name).stem}.html").read_text(encoding="utf-8")


def _title(notebook: nbformat.NotebookNode) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and (match := HEADING.search(cell.source)):
            return match.group(1)
    return ""


def _png_outputs(notebook: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def _stored(book: dict, name: str) -> nbformat.NotebookNode:
    return nbformat.reads(book["before"][name].decode("utf-8"), as_version=4)


def test_the_build_is_clean_executes_nothing_and_leaves_the_notebooks_alone(book: dict) -> None:
    assert book["warnings"] == ""
    assert book["after"] == book["before"]
    assert not list(book["output"].rglob("jupyter_execute"))


@pytest.mark.parametrize("name", STORED)
def test_each_notebook_is_a_page_with_its_title_figures_and_download(book: dict, name: str):
    stored = _stored(book, name)
    text = _page(book, name)
    title = _title(stored)
    assert title, f"{name} has no heading to serve as its title"
    assert f"<title>{html.escape(title, quote=False)}" in text
    assert re.search(r"<h1[^>]*>\s*" + re.escape(html.escape(title, quote=False)), text)

    images = PAGE_IMAGE.findall(text)
    assert len(images) == _png_outputs(stored), f"{name}: stored PNGs and page images differ"
    for image in images:
        assert (book["output"] / "_images" / image).stat().st_size > 100
    # the figures are the PNGs: no plotly JSON, no plotly.js, no widget views
    assert "plotly" not in text.lower()
    assert "widget-view+json" not in text

    download = f"../_sources/notebooks/{name}"
    assert f'href="{download}"' in text, f"{name}: no download link to the notebook"
    assert (book["output"] / "_sources" / "notebooks" / name).read_bytes() == book["before"][name]

    assert "MIT licence" in text and "CC BY 4.0" in text  # the footer


def test_the_index_lists_every_chapter_in_order_and_the_root_leads_there(book: dict) -> None:
    index = (book["output"] / "book" / "index.html").read_text(encoding="utf-8")
    toctree = index[index.index('class="toctree-wrapper') :]
    links = re.findall(
        r'<a class="reference internal" href="\.\./notebooks/([^"#]+)\.html">', toctree
    )
    assert links == [Path(name).stem for name in STORED]
    root = (book["output"] / "index.html").read_text(encoding="utf-8")
    assert 'url=book/index.html"' in root


def test_collapsed_inputs_and_solutions_are_behind_toggles(book: dict) -> None:
    for name in STORED:
        cells = _stored(book, name).cells
        solutions = ["solution" in cell.metadata.get("tags", []) for cell in cells]
        hidden = sum(
            bool(cell.metadata.get("jupyter", {}).get("source_hidden")) and not solution
            for cell, solution in zip(cells, solutions, strict=True)
        )
        page = _page(book, name)
        assert len(HIDDEN_INPUT.findall(page)) == hidden, name
        assert len(SOLUTION_TOGGLE.findall(page)) == sum(solutions) > 0, name
        assert page.count('title">Show the worked solution</p>') == sum(solutions), name


def test_nothing_is_loaded_from_another_host(book: dict) -> None:
    for page in book["output"].rglob("*.html"):
        found = EXTERNAL.findall(page.read_text(encoding="utf-8"))
        assert found == [], f"{page.relative_to(book['output'])}: {found}"
    for sheet in (book["output"] / "_static").rglob("*.css"):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"(@import|url\()\s*[\"']?(https?:)?//", text), sheet.name


def test_formulas_are_typeset_by_a_local_mathjax(book: dict) -> None:
    mathjax = book["output"] / "_static" / "mathjax"
    assert (mathjax / "MathJax.js").is_file()
    assert (mathjax / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()
    assert (mathjax / "fonts" / "HTML-CSS" / "STIX-Web" / "woff").is_dir()
    pages_with_math = 0
    for name in STORED:
        text = _page(book, name)
        sources = re.findall(r'<script[^>]*\ssrc="([^"]*MathJax[^"]*)"', text, flags=re.I)
        if 'class="math notranslate nohighlight"' in text:
            pages_with_math += 1
            assert sources == [f"../{MATHJAX_SCRIPT}"], name
            assert 'type="text/x-mathjax-config"' in text, name
    assert pages_with_math >= 3


# --- the book's hooks, on made-up notebooks ---------------------------------------------------


def _widget(text: str, png: bool) -> dict:
    data = {
        "application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2},
        "text/plain": text,
    }
    if png:
        data["application/vnd.plotly.v1+json"] = {"layout": {"title": {"text": "Rank <b>10</b>"}}}
        data["image/png"] = PIXEL
    return new_output("execute_result", data=data, execution_count=1)


def test_static_notebook_folds_hidden_and_solution_cells_and_replaces_widget_views() -> None:
    hidden = new_code_cell("record()", execution_count=1)
    hidden.metadata["jupyter"] = {"source_hidden": True}
    solution = new_code_cell("answer = 42", execution_count=2)
    solution.metadata["tags"] = ["solution"]
    solution.metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
    slider = new_code_cell("slider", execution_count=3)
    slider.outputs = [_widget("VBox(children=(IntSlider(value=10),))", png=True)]
    bare = new_code_cell("bare", execution_count=4)
    bare.outputs = [_widget("HBox(children=())", png=False)]
    progress = new_code_cell("train()", execution_count=5)
    progress.outputs = [_widget("training: 100%", png=False)]
    notebook = json.loads(
        nbformat.writes(new_notebook(cells=[hidden, solution, slider, bare, progress]))
    )

    cells = course_book.static_notebook(notebook)["cells"]
    assert cells[0]["metadata"]["tags"] == ["hide-input"]
    assert cells[1]["metadata"]["tags"] == ["solution", "hide-cell"]  # one toggle, not two
    assert cells[1]["metadata"]["mystnb"]["code_prompt_show"] == "Show the worked solution"
    figure, note = cells[2]["outputs"]
    assert set(figure["data"]) == {"image/png", "application/vnd.plotly.v1+json"}
    assert "An interactive widget (VBox)" in note["data"]["text/html"]
    assert cells[2]["metadata"]["mystnb"]["image"]["alt"] == "Rank 10"
    [note] = cells[3]["outputs"]
    assert "An interactive widget (HBox)" in note["data"]["text/html"]
    [kept] = cells[4]["outputs"]
    assert "".join(kept["data"]["text/plain"]) == "training: 100%"


def _aside_notebook() -> nbformat.NotebookNode:
    """A chapter with an aside: a tagged markdown cell (heading, text, a sub-heading, more
    text), a tagged code cell, then the main path again."""
    aside = new_markdown_cell(
        "### Optional: a side trip\n\nOff the path, with `code` and $x^2$.\n\n"
        "```python\nfenced = 1\n```\n\n#### A detail\n\nMore of the aside."
    )
    code = new_code_cell("aside = 6 * 7\naside", execution_count=1)
    code.outputs = [new_output("execute_result", {"text/plain": "42"}, execution_count=1)]
    for cell in (aside, code):
        cell.metadata["tags"] = ["optional"]
    cells = [
        new_markdown_cell("# 03 · An aside\n\n## A section\n\nThe main path starts."),
        aside,
        code,
        new_markdown_cell("## Back on the path\n\nThe main path goes on."),
    ]
    python = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    return new_notebook(cells=cells, metadata=python | {"language_info": {"name": "python"}})


@pytest.fixture(scope="module")
def small_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A made-up course of two notebooks (written in reverse order) built with book/conf.py."""
    source = tmp_path_factory.mktemp("small-course")
    (source / "book").mkdir()
    (source / "book" / "index.md").write_text((BOOK / "index.md").read_text(encoding="utf-8"))
    (source / "notebooks").mkdir()
    solution = new_code_cell("answer = 6 * 7\nanswer", execution_count=1)
    solution.metadata["tags"] = ["solution"]
    solution.outputs = [new_output("execute_result", {"text/plain": "42"}, execution_count=1)]
    python = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    second = new_notebook(
        cells=[new_markdown_cell("# 02 · Second & last"), solution], metadata=python
    )
    first = new_notebook(cells=[new_markdown_cell("# 01 · First\n\n$$\\sigma_1$$")])
    nbformat.write(second, source / "notebooks" / "02_second.ipynb")
    nbformat.write(first, source / "notebooks" / "01_first.ipynb")
    nbformat.write(_aside_notebook(), source / "notebooks" / "03_aside.ipynb")
    (source / "notebooks" / "notes.ipynb").write_text(nbformat.writes(first))  # not a chapter
    output = tmp_path_factory.mktemp("small-book")
    assert build_book(source, output) == ""
    return output


def test_new_notebooks_join_the_table_of_contents_by_their_headings(small_book: Path) -> None:
    index = (small_book / "book" / "index.html").read_text(encoding="utf-8")
    toctree = index[index.index('class="toctree-wrapper') :]
    assert toctree.index("01 · First") < toctree.index("02 · Second &amp; last")
    assert not (small_book / "notebooks" / "notes.html").exists()


def test_a_solution_cell_is_folded_behind_a_toggle(small_book: Path) -> None:
    page = (small_book / "notebooks" / "02_second.html").read_text(encoding="utf-8")
    match = re.search(
        r'<div class="cell tag_solution tag_hide-cell[^"]*">\s*<details class="[^"]*\bhide\b'
        r'[^"]*">(.*?)</details>',
        page,
        re.S,
    )
    assert match, "the solution cell is not behind a toggle"
    assert "answer" in match.group(1) and "42" in match.group(1)
    assert "Show the worked solution" in match.group(1)


def _optional_blocks(page: str) -> list[str]:
    """The contents of the page's ``course-optional`` containers."""
    return re.findall(
        r'<div class="course-optional docutils container">(.*?)</div>', page, flags=re.S
    )


def test_an_aside_looks_optional_and_the_main_path_does_not(small_book: Path) -> None:
    page = (small_book / "notebooks" / "03_aside.html").read_text(encoding="utf-8")
    heading = re.search(r'<h3 class="([^"]*)">Optional: a side trip', page)
    assert heading and "course-optional-heading" in heading.group(1).split()
    blocks = _optional_blocks(page)
    assert len(blocks) == 2, blocks  # the text before the sub-heading, and after it
    assert "Off the path" in blocks[0] and "fenced" in blocks[0] and "math" in blocks[0]
    assert "More of the aside" in blocks[1]
    assert re.search(r"<h4[^>]*>A detail", page), "the aside's sub-heading stays a heading"
    code = re.search(r'<div class="cell tag_optional[^"]*">(.*?)</div>\s*</div>', page, re.S)
    assert code and "aside" in code.group(1)
    main = page[page.index("The main path goes on") - 300 : page.index("The main path goes on")]
    assert "course-optional" not in main and "tag_optional" not in main
    assert "The main path starts" not in "".join(blocks)
    assert '<link rel="stylesheet" type="text/css" href="../_static/course.css' in page
    css = (small_book / "_static" / "course.css").read_text(encoding="utf-8")
    for selector in ("div.course-optional", "div.cell.tag_optional", ".course-optional-heading"):
        assert selector in css


def test_every_optional_cell_of_the_course_is_shown_as_optional(book: dict) -> None:
    for name in STORED:
        cells = _stored(book, name).cells
        page = _page(book, name)
        optional = [cell for cell in cells if "optional" in cell.metadata.get("tags", [])]
        code = sum(cell.cell_type == "code" for cell in optional)
        shown = re.findall(r'<div class="cell [^"]*\btag_optional\b', page)
        assert len(shown) == code, name
        with_text = [
            cell
            for cell in optional
            if cell.cell_type == "markdown"
            and any(
                line.strip() and not line.lstrip().startswith("#")
                for line in cell.source.splitlines()
            )
        ]
        assert len(_optional_blocks(page)) >= len(with_text), name
        asides = sum(
            cell.cell_type == "markdown" and cell.source.lstrip().startswith("### Optional:")
            for cell in optional
        )
        assert page.count("course-optional-heading") == asides, name


# --- in a browser -----------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(book: dict) -> Iterator[str]:
    """The built book served by a local http.server on 127.0.0.1; stopped afterwards."""
    handler = functools.partial(_QuietHandler, directory=str(book["output"]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _offline_page(browser: Any, site: str, scheme: str) -> Iterator[Any]:
    """A page that may reach only the local site: every other request is aborted and noted in
    ``page.blocked``; failed local responses go to ``page.failed``, script errors to
    ``page.errors``; all three must stay empty. ``scheme``: the reader's colour scheme."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.blocked, page.failed, page.errors = [], [], []

    def route(route: Any) -> None:
        if route.request.url.startswith(site + "/"):
            route.continue_()
        else:
            page.blocked.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.on("response", lambda r: r.status >= 400 and page.failed.append(f"{r.status} {r.url}"))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert page.blocked == [], "the page asked for something outside the site"
    assert page.failed == []
    assert page.errors == []


@pytest.fixture
def offline_page(browser: Any, site: str) -> Iterator[Any]:
    """An offline page (see ``_offline_page``) for a reader in light mode."""
    yield from _offline_page(browser, site, "light")


@pytest.fixture
def dark_page(browser: Any, site: str) -> Iterator[Any]:
    """An offline page for a reader whose system asks for dark mode."""
    yield from _offline_page(browser, site, "dark")


MATHJAX_OUTPUT = ".MathJax, .MathJax_CHTML, .MathJax_SVG, mjx-container"


@pytest.mark.browser
def test_formulas_are_typeset_and_figures_show(offline_page: Any, site: str, test_artifacts):
    page = offline_page
    page.goto(f"{site}/notebooks/03_explained_variance.html")
    page.wait_for_function(
        "() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 "
        "&& document.querySelectorAll('span.math .MathJax, div.math .MathJax').length > 0"
    )
    assert page.locator(MATHJAX_OUTPUT).count() > 0
    assert page.locator(".MathJax_Error").count() == 0
    assert "Math Processing Error" not in page.content()

    figure = page.locator('img[src*="_images/"]').first
    figure.scroll_into_view_if_needed()
    assert figure.is_visible()
    assert page.evaluate("i => i.complete && i.naturalWidth > 100", figure.element_handle())
    page.screenshot(path=str(test_artifacts / "book-light.png"))


@pytest.mark.browser
def test_search_finds_a_word(offline_page: Any, site: str) -> None:
    offline_page.goto(f"{site}/search.html?q=singular")
    results = offline_page.locator("#search-results ul.search li")
    results.first.wait_for()
    assert results.count() >= 3
    assert "notebooks/" in results.first.locator("a").first.get_attribute("href")


@pytest.mark.browser
def test_a_collapsed_input_opens_with_its_toggle(offline_page: Any, site: str) -> None:
    page = offline_page
    page.goto(f"{site}/notebooks/01_train.html")
    toggle = page.locator("details.hide.above-input").first
    code = toggle.locator("pre").first
    assert not code.is_visible()
    toggle.locator("summary").click()
    code.wait_for(state="visible")
    assert "record_results" in code.inner_text()


@pytest.mark.browser
def test_the_reader_s_dark_mode_is_followed(dark_page: Any, site: str, test_artifacts):
    page = dark_page
    page.goto(f"{site}/notebooks/02_spectrum.html")
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    channels = [int(value) for value in re.findall(r"\d+", background)[:3]]
    assert max(channels) < 80, f"dark mode background is {background}"
    page.locator('img[src*="_images/"]').first.scroll_into_view_if_needed()
    page.screenshot(path=str(test_artifacts / "book-dark.png"))
