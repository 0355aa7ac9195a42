"""`make clean` leaves the checkout as it came: no virtualenv, data, build folders or caches."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEFTOVERS = (
    ".venv/bin",
    "var/broker",
    "build/lib",
    "dist",
    "t4t_platform.egg-info",
    ".pytest_cache/v",
    ".import_linter_cache",
    ".hypothesis/examples",
    "shared/__pycache__",
    "services/scheduling/api/__pycache__",
    "tests/e2e/__pycache__",
)


def test_make_clean_leaves_no_build_folders(tmp_path):
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "config.py").write_text("# source stays\n")
    for leftover in LEFTOVERS:
        (tmp_path / leftover).mkdir(parents=True, exist_ok=True)
        (tmp_path / leftover / "file").write_text("x")
    result = subprocess.run(["make", "-s", "clean"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert [leftover for leftover in LEFTOVERS if (tmp_path / leftover).exists()] == []
    assert (tmp_path / "shared" / "config.py").read_text() == "# source stays\n"


def test_honcho_is_for_make_run_only_not_the_image():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.lower().startswith("honcho")]
    assert any(d.startswith("honcho") for d in project["optional-dependencies"]["run"])
    # make run installs what it needs on a fresh machine: the run extra is in its install step.
    assert "'.[dev,run]'" in (ROOT / "Makefile").read_text()
