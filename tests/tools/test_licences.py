"""The licences are stated where a reader, a packager and a citation tool look: LICENSE (MIT,
the code), LICENSE-CONTENT.md (CC BY 4.0, text and figures), pyproject.toml's SPDX
expression, README's Licence section, the website's footer and CITATION.cff."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_the_code_is_mit_and_the_content_cc_by_4() -> None:
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License\n\nCopyright (c) 2026 the authors of the course\n")
    content = (ROOT / "LICENSE-CONTENT.md").read_text()
    assert "Creative Commons Attribution 4.0 International" in content
    assert "https://creativecommons.org/licenses/by/4.0/" in content
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]


def test_readme_and_website_footer_state_both_licences() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Licence") :].split("\n## ", 1)[0]
    for text in ("MIT", "LICENSE-CONTENT.md", "CC BY 4.0", "CC BY-SA 3.0", "CITATION.cff"):
        assert text in section
    conf = (ROOT / "book" / "conf.py").read_text()
    footer = conf[conf.index('"extra_footer"') :]
    assert "MIT licence" in footer and "CC BY 4.0" in footer


def test_citation_file_has_what_cff_1_2_0_requires() -> None:
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    assert citation["title"] == "Compressing a neural network with the SVD"
    assert citation["authors"] == [{"name": "The course authors"}]
    assert citation["license"] == "MIT"
    assert citation["date-released"] == "2026-11-28"
    assert citation["message"]
