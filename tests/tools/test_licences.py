"""The licences are stated where a reader, a packager and a citation tool look, and agree:
LICENSE (MIT, the code), LICENSE-CONTENT.md (CC BY 4.0, text and figures), pyproject.toml's
SPDX expression, README's Licence section, the website's footer and CITATION.cff."""

import datetime
import tomllib

import yaml

from tests.conftest import ROOT


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text())


def test_the_licence_files_say_what_the_package_and_citation_declare() -> None:
    project, citation = _project(), _citation()
    declared = {project["license"], citation["license"]}
    assert declared == {"MIT"}, f"pyproject.toml and CITATION.cff declare {declared}"
    assert project["license-files"] == ["LICENSE"] and (ROOT / "LICENSE").is_file()
    licence = (ROOT / "LICENSE").read_text()
    assert licence.splitlines()[0] == "MIT License"
    assert "Permission is hereby granted, free of charge" in licence
    content = (ROOT / "LICENSE-CONTENT.md").read_text()
    assert "Creative Commons Attribution 4.0 International" in content
    assert "https://creativecommons.org/licenses/by/4.0/" in content


def test_readme_and_website_footer_state_both_licences() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Licence") :].split("\n## ", 1)[0]
    for text in ("MIT", "LICENSE-CONTENT.md", "CC BY 4.0", "CC BY-SA 3.0", "CITATION.cff"):
        assert text in section
    conf = (ROOT / "book" / "conf.py").read_text()
    footer = conf[conf.index('"extra_footer"') :]
    assert "MIT licence" in footer and "CC BY 4.0" in footer


def test_the_citation_is_valid_cff_1_2_0_and_matches_the_package_and_the_book() -> None:
    import conf  # book/conf.py (the website's title)

    citation, project = _citation(), _project()
    # the keys CFF 1.2.0 requires, each of the type it requires
    assert citation["cff-version"] == "1.2.0"
    assert isinstance(citation["message"], str) and citation["message"].strip()
    assert all(isinstance(author.get("name"), str) for author in citation["authors"])
    datetime.date.fromisoformat(str(citation["date-released"]))
    # one title and one version everywhere
    assert citation["title"] == conf.project
    assert str(citation["version"]) == project["version"]
