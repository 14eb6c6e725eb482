"""The course's own Sphinx hooks (conf.py lists this module as an extension).

- ``static_notebook``: each notebook is adjusted in memory as Sphinx reads it, never on disk.
  A cell whose input JupyterLab shows collapsed (``"jupyter": {"source_hidden": true}``) gets
  MyST-NB's ``hide-input`` tag, so its code sits behind a toggle on the page; a code cell tagged
  ``solution`` gets ``hide-cell`` instead (code and output behind a "Show the worked solution"
  toggle); a widget's view becomes its
  stored PNG (a slider's figure) and a short note that it is interactive in a running notebook,
  or only that note when its text is just the widget's repr (``VBox(children=(IntSlider(...``);
  a figure's title (from its plotly JSON) becomes the alt text of its PNG. A cell tagged
  ``optional`` (an aside off the main path) is shown as one: a code cell keeps MyST-NB's
  ``tag_optional`` class, a markdown cell's text goes into a ``course-optional`` container
  (its headings stay outside, so they remain the page's sections), and course.css gives both a
  muted bar on the left.
- ``mark_optional_headings``: the heading of each aside (``### Optional: <title>``) gets the
  class ``course-optional-heading``, which course.css labels "Optional".
- MathJax 2 is copied from the jupyter-server-mathjax package into ``_static/mathjax``, so
  formulas are typeset without the network (conf.py's ``mathjax_path`` points there).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

HIDE_INPUT = "hide-input"
HIDE_CELL = "hide-cell"
SOLUTION = "solution"
OPTIONAL = "optional"
OPTIONAL_CLASS = "course-optional"
OPTIONAL_HEADING_CLASS = "course-optional-heading"
ASIDE_TITLE = "Optional:"
SOLUTION_PROMPTS = {
    "code_prompt_show": "Show the worked solution",
    "code_prompt_hide": "Hide the worked solution",
}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PLOTLY = "application/vnd.plotly.v1+json"
PNG = "image/png"
# A widget's plain-text fallback is its Python repr, e.g. "VBox(children=(IntSlider(...": not
# worth showing. Other widget fallbacks (a progress bar's text) are kept.
WIDGET_REPR = re.compile(r"^[A-Z]\w*\(")
WIDGET_NOTE = (
    '<p class="static-widget-note"><em>An interactive widget ({name}): it works only in a '
    "running notebook; open the course with <code>make lab</code> to use it.</em></p>"
)
MATHJAX_FOLDER = "mathjax"


def _add_tag(cell: dict[str, Any], tag: str) -> None:
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


def figure_title(data: dict[str, Any]) -> str | None:
    """The plain text of a plotly figure's title in an output's ``data`` (markup removed)."""
    title = data.get(PLOTLY, {}).get("layout", {}).get("title", {})
    text = title.get("text") if isinstance(title, dict) else title
    plain = " ".join(re.sub(r"<[^>]+>", " ", text).split()) if isinstance(text, str) else ""
    return plain or None


def _static_outputs(output: dict[str, Any]) -> list[dict[str, Any]]:
    """What the book shows for one output: a widget view becomes its PNG (if it stored one)
    and a note; every other output is kept as it is."""
    data = output.get("data", {})
    if WIDGET_VIEW not in data:
        return [output]
    text = "".join(data.get("text/plain", ""))
    widget = text.split("(", 1)[0] if WIDGET_REPR.match(text) else ""
    note = {
        "output_type": "display_data",
        "metadata": {},
        "data": {"text/html": WIDGET_NOTE.format(name=html.escape(widget or "widget"))},
    }
    if PNG in data:
        figure = {**output, "data": {key: data[key] for key in (PNG, PLOTLY) if key in data}}
        return [figure, note]
    if text and not widget:  # a useful text fallback (a progress bar): keep it
        return [output]
    return [note]


def _fenced(text: str) -> str:
    """``text`` inside a MyST ``container`` directive of class ``course-optional``, fenced with
    more backticks than any run inside it."""
    runs = [len(run) for run in re.findall(r"`+", text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}{{container}} {OPTIONAL_CLASS}\n{text.strip()}\n{fence}"


def optional_markdown(source: str) -> str:
    """An aside's markdown with its text, between its headings, in ``course-optional``
    containers; headings (outside code fences) stay where they are, as sections of the page."""
    parts: list[str] = []
    chunk: list[str] = []
    fenced = False

    def flush() -> None:
        if "".join(chunk).strip():
            parts.append(_fenced("\n".join(chunk)))
        chunk.clear()

    for line in source.splitlines():
        if re.match(r"^ {0,3}(```|~~~)", line):
            fenced = not fenced
        if not fenced and re.match(r"^ {0,3}#{1,6}\s", line):
            flush()
            parts.append(line)
        else:
            chunk.append(line)
    flush()
    return "\n\n".join(parts)


def static_notebook(notebook: dict[str, Any]) -> dict[str, Any]:
    """``notebook`` (nbformat JSON as a dict), changed in place as the book shows it: hidden
    inputs and solutions behind toggles, widget views replaced by their figure and a note,
    figures' titles as their alt text."""
    for cell in notebook.get("cells", []):
        metadata = cell.setdefault("metadata", {})
        is_solution = cell.get("cell_type") == "code" and SOLUTION in metadata.get("tags", [])
        if is_solution:
            _add_tag(cell, HIDE_CELL)
            metadata.setdefault("mystnb", {}).update(SOLUTION_PROMPTS)
        elif metadata.get("jupyter", {}).get("source_hidden"):
            _add_tag(cell, HIDE_INPUT)
        if cell.get("cell_type") == "markdown" and OPTIONAL in metadata.get("tags", []):
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            cell["source"] = optional_markdown(source)
        if cell.get("cell_type") != "code":
            continue
        outputs = [new for output in cell.get("outputs", []) for new in _static_outputs(output)]
        cell["outputs"] = outputs
        titles = [
            figure_title(output["data"]) for output in outputs if PNG in output.get("data", {})
        ]
        if len(titles) == 1 and titles[0]:  # MyST-NB's image options apply to the whole cell
            metadata.setdefault("mystnb", {}).setdefault("image", {}).setdefault("alt", titles[0])
    return notebook


def _on_source_read(app: Any, docname: str, source: list[str]) -> None:
    """Sphinx ``source-read``: rewrite a notebook's JSON text before MyST-NB parses it."""
    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    notebook = json.loads(source[0])
    source[0] = json.dumps(static_notebook(notebook), ensure_ascii=False)


def mark_optional_headings(app: Any, doctree: Any) -> None:
    """Sphinx ``doctree-read``: the title of every section headed ``Optional: …`` gets the
    class course.css labels."""
    from docutils import nodes

    for section in doctree.findall(nodes.section):
        title = section.next_node(nodes.title)
        if title is not None and title.astext().startswith(ASIDE_TITLE):
            title["classes"].append(OPTIONAL_HEADING_CLASS)


def mathjax_source() -> Path:
    """The folder holding MathJax.js in the jupyter-server-mathjax package."""
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).resolve().parent / "static"


def _copy_mathjax(app: Any, exception: Exception | None) -> None:
    """Sphinx ``build-finished``: MathJax 2 into the site's ``_static/mathjax``."""
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / MATHJAX_FOLDER
        shutil.copytree(mathjax_source(), target, dirs_exist_ok=True)


def setup(app: Any) -> dict[str, Any]:
    mathjax_source()  # fail at the start, not after the whole build, when it is missing
    app.connect("source-read", _on_source_read)
    app.connect("doctree-read", mark_optional_headings)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
