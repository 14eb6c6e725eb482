"""References that cannot go stale: every relative link in the notebooks' markdown and in the
repository's Markdown files (README.md, CONTRIBUTING.md, ...) leads to a file that exists, and
every "notebook NN" in a notebook's prose is a link to that notebook's file. Renumbering or
renaming a chapter then breaks the tests instead of the reader's click."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest

from tests.conftest import NOTEBOOKS, ROOT

NOTEBOOK_FILES = sorted([*NOTEBOOKS.glob("*.ipynb"), *(ROOT / "explorer").glob("*.ipynb")])
DOCUMENTS = sorted(
    path
    for pattern in ("*.md", "book/*.md", "benchmarks/**/*.md", "data/*/*.md")
    for path in ROOT.glob(pattern)
)

CODE = re.compile(r"(?ms)^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[ \t]*$|(`+)[^`\n].*?\2")
INLINE_LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*(<[^>]*>|[^\s)]+)[^)]*\)")
REFERENCE = re.compile(r"(?m)^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_LINK = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.I)
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.I)
MENTION = re.compile(r"\b[Nn]otebooks?\s+\[?(\d\d)\b")


def without_code(text: str) -> str:
    """``text`` with fenced code blocks and inline code spans blanked out (same length)."""
    return CODE.sub(lambda match: " " * len(match.group(0)), text)


def link_targets(text: str) -> list[str]:
    """The targets of every Markdown and HTML link and image in ``text``, outside code."""
    prose = without_code(text)
    targets = [target for _, target in INLINE_LINK.findall(prose)]
    targets += REFERENCE.findall(prose) + HTML_LINK.findall(prose)
    return [target.strip("<>") for target in targets]


def broken_links(text: str, folder: Path) -> list[str]:
    """The relative link targets in ``text`` whose file part (before ``#`` or ``?``) names no
    existing file or folder, resolved from ``folder`` (from the repository root when the
    target starts with ``/``)."""
    broken = []
    for target in link_targets(text):
        if EXTERNAL.match(target):
            continue
        file_part = unquote(re.split(r"[#?]", target, maxsplit=1)[0])
        base = ROOT if file_part.startswith("/") else folder
        if not (base / file_part.lstrip("/")).exists():
            broken.append(target)
    return broken


@cache
def _markdown(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = nbformat.read(path, as_version=4).cells
        return "\n\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "document",
    NOTEBOOK_FILES + DOCUMENTS,
    ids=[str(path.relative_to(ROOT)) for path in NOTEBOOK_FILES + DOCUMENTS],
)
def test_every_relative_link_resolves(document: Path) -> None:
    broken = broken_links(_markdown(document), document.parent)
    assert not broken, f"{document.relative_to(ROOT)} links to files that do not exist: {broken}"


def unlinked_mentions(text: str, own_number: str) -> list[str]:
    """Each "notebook NN" (or "notebooks NN") in ``text``, outside code, whose number is not
    inside the text of a link to ``NN_<topic>.ipynb``; the notebook's own number is exempt."""
    prose = without_code(text)
    linked = [
        (match.start(1), match.end(1), Path(unquote(match.group(2).strip("<>"))).name[:3])
        for match in INLINE_LINK.finditer(prose)
    ]
    found = []
    for mention in MENTION.finditer(prose):
        number = mention.group(1)
        if number == own_number:
            continue
        at = mention.start(1)
        if not any(start <= at < end and name == f"{number}_" for start, end, name in linked):
            found.append(" ".join(prose[mention.start() : mention.end()].replace("[", "").split()))
    return found


def test_every_mention_of_another_notebook_links_to_it(chapter: Path) -> None:
    unlinked = unlinked_mentions(_markdown(chapter), chapter.name[:2])
    assert not unlinked, (
        f"{chapter.name} names notebooks without linking them: {unlinked}; write "
        "[notebook 11](11_activation_aware.ipynb)"
    )


def test_the_link_checks_catch_what_they_should(tmp_path: Path) -> None:
    (tmp_path / "02_next.ipynb").write_text("{}")
    text = (
        "See [notebook 02](02_next.ipynb#a-section), [the site](https://example.org), "
        "[up](#top), ![figure](missing.png), [gone](03_gone.ipynb) and `[code](nowhere.md)`.\n"
        "```\n[fenced](nowhere.md)\n```\n"
        '<a href="02_next.ipynb">ok</a> <img src="lost.png">\n'
        "[ref]: ./nothing-here.md\n"
    )
    assert broken_links(text, tmp_path) == [
        "missing.png",
        "03_gone.ipynb",
        "./nothing-here.md",
        "lost.png",
    ]
    mentions = (
        "As [notebook 02](02_next.ipynb) shows, and notebook 03 and notebooks 05 and "
        "[notebook 07](08_wrong.ipynb) too; notebook [09](09_x.ipynb) and this notebook 04."
    )
    assert unlinked_mentions(mentions, "04") == ["notebook 03", "notebooks 05", "notebook 07"]
