"""The whole course as static HTML, for reading without Jupyter (introduced for the README's
``make html``, issue 5). ``python -m tools.html_build [--output DIR]``.

Each stored notebook in ``notebooks/`` is converted as it is stored, never executed, into
``build/html/NN_topic.html``, and ``index.html`` links the pages in order. Figures are the PNG
copies stored beside each plotly figure, embedded in the page, so they show offline; the
interactive plotly JSON (which needs plotly.js from the network) is left out of the HTML.
Formulas are typeset by MathJax 2, copied from the ``jupyter-server-mathjax`` package into
``mathjax/`` beside the pages, so they render offline too (without that package the pages load
MathJax from its CDN and show TeX source when offline).
"""

from __future__ import annotations

import argparse
import copy
import html
import re
import shutil
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from course_utils.files import write_text_atomically
from course_utils.paths import REPOSITORY_ROOT

if TYPE_CHECKING:
    from nbconvert import HTMLExporter

NOTEBOOKS = REPOSITORY_ROOT / "notebooks"
BUILD_HTML = REPOSITORY_ROOT / "build" / "html"
NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"

PLOTLY = "application/vnd.plotly.v1+json"
PNG = "image/png"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# A widget's plain-text fallback is its Python repr, e.g. "VBox(children=(IntSlider(...": not
# worth showing. Other widget fallbacks (a progress bar's text) are kept.
WIDGET_REPR = re.compile(r"^[A-Z]\w*\(")
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
WIDGET_NOTE = (
    '<p class="static-widget-note"><em>An interactive widget ({name}): it works only in a '
    "running notebook; open the course with <code>make lab</code> to use it.</em></p>"
)


class HtmlBuildError(RuntimeError):
    """The notebooks cannot be turned into pages whose figures show (message says why)."""


@dataclass(frozen=True)
class Page:
    """One built page: its notebook, its HTML file, its title and how many figures it embeds."""

    notebook: Path
    html: Path
    title: str
    figures: int
    unexecuted_cells: int


def find_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The course's notebooks in ``folder``, in order; a clear error if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise HtmlBuildError(
            f"notebooks folder {folder} does not exist; run this from a checkout of the course "
            "or pass the folder that holds NN_topic.ipynb files"
        )
    found = sorted(folder.glob(NOTEBOOK_PATTERN))
    if not found:
        raise HtmlBuildError(f"no notebooks named {NOTEBOOK_PATTERN} in {folder}")
    return found


def notebook_title(notebook: nbformat.NotebookNode, fallback: str = "") -> str:
    """The text of the first markdown heading (the notebook's title), else ``fallback``."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = HEADING.search(cell.source)
            if match:
                return match.group(1).strip()
    return fallback


def static_copy(notebook: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """A copy of ``notebook`` whose outputs render without a kernel or the network.

    Plotly outputs keep only their PNG (an error names the cell if one has none); widget views,
    whose state is not stored, fall back to their text, or to a short note when that text is
    only the widget's repr; saved widget state is dropped.
    """
    static = copy.deepcopy(notebook)
    static.metadata.pop("widgets", None)
    for index, cell in enumerate(static.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            if PLOTLY in data:
                if PNG not in data:
                    raise HtmlBuildError(
                        f"{name}, cell {index} (execution count {cell.execution_count}): a plotly "
                        "figure without a PNG copy would be blank in the HTML; refresh the stored "
                        "outputs with `python -m tools.run_course --in-place` (needs "
                        "Chromium for kaleido)"
                    )
                # the PNG is the figure; no HTML or JSON version may take precedence over it
                for key in [key for key in data if key not in (PNG, "text/plain")]:
                    del data[key]
            if WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
                text = "".join(data.get("text/plain", ""))
                if not text or WIDGET_REPR.match(text):
                    widget = text.split("(", 1)[0] or "widget"
                    data.pop("text/plain", None)
                    data["text/html"] = WIDGET_NOTE.format(name=html.escape(widget))
    return static


def count_png_outputs(notebook: nbformat.NotebookNode) -> int:
    """How many outputs of ``notebook`` carry a PNG image (its static figures)."""
    return sum(
        PNG in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def unexecuted_code_cells(notebook: nbformat.NotebookNode) -> int:
    """Code cells with source but no execution count (a notebook stored without running it)."""
    return sum(
        cell.cell_type == "code" and cell.source.strip() != "" and cell.execution_count is None
        for cell in notebook.cells
    )


def figure_descriptions(notebook: nbformat.NotebookNode) -> list[str | None]:
    """For each PNG output of ``notebook``, in order, its plotly figure's title (else None)."""
    descriptions = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if PNG not in data:
                continue
            title = data.get(PLOTLY, {}).get("layout", {}).get("title", {})
            text = title.get("text") if isinstance(title, dict) else title
            plain = " ".join(re.sub(r"<[^>]+>", " ", text).split()) if text else ""
            descriptions.append(plain or None)
    return descriptions


MATHJAX_FOLDER = "mathjax"
# The combined configuration jupyter-server-mathjax ships (nbconvert's CDN default asks for
# TeX-AMS_CHTML-full, which the package does not include), plus the Safe extension.
MATHJAX_CONFIG = "?config=TeX-AMS-MML_HTMLorMML-full,Safe"


def copy_mathjax(output: Path) -> str | None:
    """Copy MathJax 2 next to the pages; the pages' relative address for it, or None when the
    ``jupyter-server-mathjax`` package (which ships it) is not installed."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        warnings.warn(
            "jupyter-server-mathjax is not installed, so the pages load MathJax from the "
            "network; install it (pip install -e '.[dev]') for formulas that render offline",
            stacklevel=2,
        )
        return None
    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    shutil.copytree(source, output / MATHJAX_FOLDER, dirs_exist_ok=True)
    return f"{MATHJAX_FOLDER}/MathJax.js{MATHJAX_CONFIG}"


def html_exporter(mathjax_url: str | None = None) -> HTMLExporter:
    """nbconvert's exporter for the course: JupyterLab's look, markdown images embedded, and
    MathJax from ``mathjax_url`` when given (nbconvert's CDN default otherwise)."""
    from nbconvert import HTMLExporter  # imported here: only this command needs nbconvert

    exporter = HTMLExporter(template_name="lab", embed_images=True)
    if mathjax_url:
        exporter.mathjax_url = mathjax_url
    return exporter


def to_html(
    notebook: nbformat.NotebookNode,
    title: str,
    alt_texts: list[str | None] | None = None,
    exporter: HTMLExporter | None = None,
) -> str:
    """``notebook`` as one self-contained HTML page (nbconvert's lab template), not executed.
    ``alt_texts`` describe the output PNGs in order (the figures' titles)."""
    page = copy.deepcopy(notebook)
    page.metadata["title"] = title
    exporter = exporter or html_exporter()
    body, _ = exporter.from_notebook_node(page, resources={"metadata": {"name": title}})
    if alt_texts and any(alt_texts):
        from bs4 import BeautifulSoup  # nbconvert's own dependency

        soup = BeautifulSoup(body, features="html.parser")
        images = soup.select('.jp-RenderedImage.jp-OutputArea-output > img[src^="data:image/png"]')
        if len(images) == len(alt_texts):  # otherwise leave nbconvert's generic alt text
            for image, alt in zip(images, alt_texts, strict=True):
                if alt:
                    image["alt"] = alt
            body = str(soup)
    return body


def index_html(
    pages: list[Page], heading: str = "Compressing a neural network with the SVD"
) -> str:
    """A page linking ``pages`` in order, each by its title."""
    items = "\n".join(
        f'    <li><a href="{html.escape(page.html.name)}">{html.escape(page.title)}</a></li>'
        for page in pages
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{html.escape(heading)}</title>
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 3rem auto;
           padding: 0 1rem; line-height: 1.6; color: #222; }}
    li {{ margin: 0.4rem 0; }}
  </style>
</head>
<body>
  <h1>{html.escape(heading)}</h1>
  <p>The course's notebooks as stored, with their outputs and figures, in reading order.</p>
  <ol>
{items}
  </ol>
</body>
</html>
"""


def build_html(notebooks: Path = NOTEBOOKS, output: Path = BUILD_HTML) -> list[Page]:
    """Convert every notebook in ``notebooks`` (in order) to ``output/NN_topic.html``, without
    executing any, and write ``output/index.html``; returns the pages built."""
    output = Path(output)
    notebook_paths = find_notebooks(notebooks)
    output.mkdir(parents=True, exist_ok=True)
    exporter = html_exporter(copy_mathjax(output))
    pages = []
    for source in notebook_paths:
        notebook = nbformat.read(source, as_version=4)
        title = notebook_title(notebook, fallback=source.stem)
        static = static_copy(notebook, name=source.name)
        target = output / f"{source.stem}.html"
        html_page = to_html(static, title, figure_descriptions(notebook), exporter)
        write_text_atomically(target, html_page)
        pages.append(
            Page(
                notebook=source,
                html=target,
                title=title,
                figures=count_png_outputs(static),
                unexecuted_cells=unexecuted_code_cells(notebook),
            )
        )
    write_text_atomically(output / "index.html", index_html(pages))
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build the course as static HTML from the stored notebooks (not executed)."
    )
    parser.add_argument("--output", type=Path, default=BUILD_HTML, help=f"default: {BUILD_HTML}")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help=f"default: {NOTEBOOKS}")
    arguments = parser.parse_args(argv)
    try:
        pages = build_html(arguments.notebooks, arguments.output)
    except HtmlBuildError as error:
        print(f"html_build: {error}", file=sys.stderr)
        return 1
    for page in pages:
        note = f"{page.figures} figure(s)"
        if page.unexecuted_cells:
            note += f"; stored without outputs for {page.unexecuted_cells} code cell(s)"
        print(f"{page.notebook.name} -> {page.html} ({note})")
    print(f"open {Path(arguments.output) / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
