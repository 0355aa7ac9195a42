"""Pins: every runtime dependency has a major upper bound, constraints.txt pins every package exactly,
and both the development install and the image install through it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]


def requirements(group: str | None = None) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [
        Requirement(line) for line in (project["optional-dependencies"][group] if group else project["dependencies"])
    ]


def pins() -> dict[str, str]:
    lines = (REPO / "constraints.txt").read_text().splitlines()
    found = {}
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version and ";" not in version, f"constraints.txt: {line!r} is not an exact pin"
            found[re.sub(r"[-_.]+", "-", name).lower()] = version
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def has_upper_bound(specifier: SpecifierSet) -> bool:
    return any(spec.operator in {"<", "<=", "~=", "=="} for spec in specifier)


def test_every_runtime_dependency_has_an_upper_bound():
    unbounded = [str(req) for req in requirements() + requirements("run") if not has_upper_bound(req.specifier)]
    assert unbounded == []


def test_constraints_pin_every_declared_dependency_within_its_bounds():
    pinned = pins()
    for req in requirements() + requirements("run") + requirements("dev"):
        version = pinned.get(canonical(req.name))
        assert version, f"{req.name} is not pinned in constraints.txt"
        assert req.specifier.contains(Version(version), prereleases=True), f"{req.name}=={version} outside {req}"


def test_the_installs_go_through_the_constraints():
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"pip install .*-c constraints\.txt .*'\.\[dev,run\]'", makefile)
    assert re.search(r"STAMP .*constraints\.txt", makefile), "a new pin must reinstall"
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"COPY [^\n]*constraints\.txt", dockerfile)
    assert re.search(r"RUN pip install [^\n]*-c constraints\.txt", dockerfile)
