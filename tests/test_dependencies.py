"""Every dependency is bounded in setup.cfg and pinned in constraints.txt (which `make` and CI
install with), and the pin lies inside the range: a new major cannot arrive unseen."""
from __future__ import annotations

import configparser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
UNBOUNDED_OK = {"cryptography"}  # majors every few months, API stable; pinned in constraints.txt


def _requirements() -> list[Requirement]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options"]["install_requires"].splitlines()
    for extra in ("postgres", "redis", "test"):
        lines += config["options.extras_require"][extra].splitlines()
    return [Requirement(line) for line in lines if line.strip()]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


@pytest.mark.parametrize("requirement", _requirements(), ids=str)
def test_each_dependency_is_pinned_inside_its_range(requirement):
    pins = _pins()
    name = requirement.name.lower().replace("_", "-")
    assert name in pins, f"{requirement.name} is missing from constraints.txt"
    assert requirement.specifier.contains(pins[name]), f"constraints.txt pins {name} {pins[name]} outside {requirement}"


def test_core_dependencies_have_an_upper_bound():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    for line in config["options"]["install_requires"].splitlines():
        if line.strip():
            requirement = Requirement(line)
            if requirement.name not in UNBOUNDED_OK:
                assert any(spec.operator == "<" for spec in requirement.specifier), f"{line} has no upper bound"


def _plugin_requirements() -> list[tuple[str, Requirement]]:
    import tomllib

    out = []
    for pyproject in sorted((ROOT / "plugins").glob("*/pyproject.toml")):
        for line in tomllib.loads(pyproject.read_text())["project"].get("dependencies", []):
            out.append((pyproject.parent.name, Requirement(line)))
    return out


@pytest.mark.parametrize("plugin, requirement", _plugin_requirements(), ids=lambda v: str(v))
def test_each_bundled_plugin_dependency_is_pinned_inside_its_range(plugin, requirement):
    pins = _pins()
    name = requirement.name.lower().replace("_", "-")
    assert name in pins, f"{requirement.name} (plugins/{plugin}) is missing from constraints.txt"
    assert requirement.specifier.contains(pins[name]), (
        f"constraints.txt pins {name} {pins[name]} outside {requirement} (plugins/{plugin})")
