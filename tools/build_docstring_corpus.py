"""Build ``data/docstrings/``: the docstrings of this Python's standard library, split by module
(the corpus of 14_causal_lm). Run once by the maintainers; readers use the shipped files.

    python -m tools.build_docstring_corpus [--output data/docstrings]

Every ``.py`` file under the standard library (tests, ``site-packages``, ``idlelib`` and
``turtledemo`` left out) is parsed with ``ast`` (nothing is imported); its module, class and
function docstrings, cleaned by ``ast.get_docstring``, are joined with blank lines. Modules are
sorted by name and every tenth one (positions 9, 19, 29, ...) goes to ``heldout.txt``, the rest
to ``train.txt``, so held-out text comes from modules never seen in training. The stdlib's
docstrings differ between Python versions, which is why the result is shipped with its
SHA-256 rather than rebuilt on each reader's machine.
"""

from __future__ import annotations

import argparse
import ast
import sys
import sysconfig
from pathlib import Path

from course_utils.files import sha256_of, write_text_atomically

SKIPPED_PARTS = {"test", "tests", "site-packages", "dist-packages", "idlelib", "turtledemo"}
HELD_OUT_EVERY = 10


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def docstrings(source: str) -> list[str]:
    """Module, class and function docstrings of one file, in source order."""
    tree = ast.parse(source)
    nodes = [tree] + [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    nodes.sort(key=lambda node: getattr(node, "lineno", 0))
    texts = (ast.get_docstring(node, clean=True) for node in nodes)
    return [text.strip() for text in texts if text and text.strip()]


def collect(root: Path) -> dict[str, str]:
    modules = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).parts
        if SKIPPED_PARTS & set(relative) or any(p.startswith("test_") for p in relative):
            continue
        try:
            texts = docstrings(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        if texts:
            modules[module_name(path, root)] = "\n\n".join(texts) + "\n\n"
    return dict(sorted(modules.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("data/docstrings"))
    arguments = parser.parse_args()
    modules = collect(Path(sysconfig.get_paths()["stdlib"]))
    names = list(modules)
    held_out = {name for i, name in enumerate(names) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1}
    parts = {
        "train.txt": "".join(modules[n] for n in names if n not in held_out),
        "heldout.txt": "".join(modules[n] for n in names if n in held_out),
    }
    for file_name, text in parts.items():
        write_text_atomically(arguments.output / file_name, text)
    write_text_atomically(
        arguments.output / "SHA256SUMS",
        "".join(f"{sha256_of(arguments.output / f)}  {f}\n" for f in parts),
    )
    write_text_atomically(
        arguments.output / "modules.txt",
        "".join(f"{'heldout' if n in held_out else 'train'}\t{n}\n" for n in names),
    )
    print(
        f"Python {sys.version.split()[0]}: {len(names)} modules, {len(held_out)} held out; "
        + ", ".join(f"{f} {len(t.encode()):,} bytes" for f, t in parts.items())
    )


if __name__ == "__main__":
    main()
