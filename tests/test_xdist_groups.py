"""The test suite's own scheduling: tests marked ``serial`` share one xdist group under ``--dist loadgroup``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TESTS = """
import os, pytest

@pytest.mark.parametrize("n", range(6))
@pytest.mark.serial
def test_serial(n):
    with open(os.environ["RAN"], "a") as ran:
        ran.write(f"serial {os.environ['PYTEST_XDIST_WORKER']}\\n")

@pytest.mark.parametrize("n", range(6))
def test_free(n):
    pass
"""


def test_serial_tests_run_on_one_worker_under_loadgroup(tmp_path):
    (tmp_path / "test_probe.py").write_text(TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    serial: runs alone\n")
    ran = tmp_path / "ran.txt"
    env = {**os.environ, "RAN": str(ran), "PYTHONPATH": str(ROOT)}
    # The suite's conftest as a plugin, on tests of its own: the run is this one's, whatever runs beside it.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(tmp_path), "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path)]
        + ["-p", "tests.conftest", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup", "-v"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    serial_lines = [line for line in result.stdout.splitlines() if "PASSED" in line and "::test_serial[" in line]
    assert len(serial_lines) == 6
    assert all("@serial" in line for line in serial_lines), "\n".join(serial_lines)
    workers = {line.split()[1] for line in ran.read_text().splitlines()}
    assert len(workers) == 1, workers
