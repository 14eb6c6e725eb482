"""environment.yml (conda) and pyproject.toml (pip) must ask for the same packages and pins."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {normalise(r) for r in requirements}


def conda_pip_requirements() -> set[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:") + 1
    entries = [line.strip()[2:] for line in lines[start:] if line.strip().startswith("- ")]
    return {normalise(entry) for entry in entries if not entry.startswith("-e")}


def test_conda_and_pip_list_the_same_packages_and_pins():
    assert conda_pip_requirements() == pyproject_requirements()


def test_torch_is_pinned_to_the_versions_this_course_is_tested_with():
    assert {"torch==2.14.1", "torchvision==0.29.1"} <= pyproject_requirements()


def test_conda_environment_installs_the_course_package_and_python_311():
    text = (ROOT / "environment.yml").read_text()
    assert "- python=3.11" in text
    assert "- -e ." in text
