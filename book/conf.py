"""Sphinx configuration of the course's book: ``make html``, which runs
``sphinx-build -b html -c book . build/html`` from the repository root.

The source folder is the repository root, so the chapters are the stored notebooks where they
live (``notebooks/NN_topic.ipynb``, rendered from their saved outputs, never executed) and the
links between them resolve; ``include_patterns`` keeps everything else out. The index
(``book/index.md``) globs the notebooks into its table of contents, so a new chapter appears
without editing anything here; ``build/html/index.html`` only redirects to it. Everything the
pages load is local: MathJax 2 is copied from the jupyter-server-mathjax package
(course_book.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

project = "Compressing a neural network with the SVD"
author = "The course authors"
copyright = "2026, the authors of the course"
language = "en"

extensions = ["myst_nb", "course_book"]
root_doc = "book/index"
include_patterns = ["book/index.md", "notebooks/[0-9][0-9]_*.ipynb"]
# folders never walked looking for sources (the include patterns decide what is read)
exclude_patterns = [
    ".*",
    "**/.*",
    "*venv*",
    "artifacts",
    "benchmarks",
    "build",
    "course_utils",
    "data",
    "scratch",
    "tests",
    "tools",
]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["course.css"]  # asides tagged `optional` shown as optional (course_book.py)
suppress_warnings = ["mystnb.unknown_mime_type"]

# --- notebooks: stored outputs only --------------------------------------------------------
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "amsmath"]
# A figure is the PNG stored beside its plotly JSON (which would need plotly.js); widget views
# have no saved state and no widget JavaScript offline, so their text (or a note) stands in.
nb_mime_priority_overrides = [
    ("html", "image/png", 5),
    ("html", "application/vnd.plotly.v1+json", None),
    ("html", "application/vnd.jupyter.widget-view+json", None),
]
nb_ipywidgets_js = {}  # never load the widget manager from a CDN
nb_merge_streams = True

# --- formulas: MathJax 2 served from _static/mathjax (see course_book.py) --------------------
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
mathjax2_config = {
    "tex2jax": {"processClass": "math", "processEscapes": True, "ignoreClass": "document"},
    "HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web", "imageFont": None},
    "menuSettings": {"zoom": "None"},
}
myst_update_mathjax = False  # MyST would write a MathJax 4 configuration

# --- pages -----------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = project
html_additional_pages = {"index": "redirect.html"}  # build/html/index.html -> book/index.html
html_copy_source = True
html_sourcelink_suffix = ""  # the download button gives NN_topic.ipynb itself
html_show_sphinx = False
html_last_updated_fmt = None
html_context = {"default_mode": "auto"}  # light or dark as the reader's system prefers
html_theme_options = {
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "use_source_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "extra_footer": (
        "<p>Code: MIT licence. Text and figures: "
        "Creative Commons Attribution 4.0 International (CC BY 4.0). "
        "MNIST data: CC BY-SA 3.0. See LICENSE, LICENSE-CONTENT.md and data/mnist/README.md "
        "in the repository.</p>"
    ),
}
