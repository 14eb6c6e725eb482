"""environment.yml (conda) and pyproject.toml (pip) must ask for the same packages and pins,
and the environment the tests run in must be the one they pin."""

import importlib.metadata
import re
import tomllib

from tests.conftest import ROOT


def normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pyproject_requirements() -> set[str]:
    project = pyproject()
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


def test_the_installed_torch_is_the_one_the_stored_outputs_come_from():
    # the compared outputs and the tolerances were measured with the pinned versions: another
    # PyTorch may train to other numbers, so the suite says so instead of failing somewhere deep
    pins = dict(r.split("==") for r in pyproject_requirements() if r.startswith("torch"))
    assert set(pins) == {"torch", "torchvision"}, "pin torch and torchvision exactly"
    for package, pinned in pins.items():
        installed = importlib.metadata.version(package).split("+")[0]  # 2.14.1+cu130 is 2.14.1
        assert installed == pinned, (
            f"{package} {installed} is installed, the course pins {pinned}: run `make install`"
        )


def test_conda_installs_the_course_package_with_a_python_pip_accepts():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"(?m)^\s+- -e \.$", text), "environment.yml must install the course (-e .)"
    conda_python = re.search(r"(?m)^\s+- python=(\d+)\.(\d+)$", text)
    assert conda_python, "environment.yml must pin python=X.Y"
    version = tuple(int(part) for part in conda_python.groups())
    bounds = re.fullmatch(r">=(\d+)\.(\d+),<(\d+)\.(\d+)", pyproject()["requires-python"])
    assert bounds, "requires-python is written '>=X.Y,<X.Z'"
    low, high = tuple(map(int, bounds.groups()[:2])), tuple(map(int, bounds.groups()[2:]))
    assert low <= version < high, f"conda's python {version} is outside requires-python"
