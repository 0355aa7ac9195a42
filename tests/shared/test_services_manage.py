"""`python -m services.manage`: several services' migrations and seed in one process, as `make seed` runs them."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def embedded_env(data_dir: Path) -> dict:
    """The embedded default (SQLite files in ``data_dir``), whatever this machine's environment points at."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "BROKER_", "CONTENT_", "SCHEDULING_", "NOTIFICATIONS_", "COACHING_"))
    }
    return {**env, "DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"}


def manage(*arguments: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.manage", *arguments],
        cwd=ROOT,
        env=embedded_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )


def count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_the_chosen_services_are_migrated_then_seeded_in_one_process_and_the_others_left_alone(tmp_path):
    migrated = manage("migrate", "--service", "content", data_dir=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert count(tmp_path / "content.db", "series") == 0  # migrate alone loads no seed
    assert [path.name for path in tmp_path.glob("*.db")] == ["content.db"]

    done = manage("migrate", "seed", "--service", "content", "--service", "scheduling", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    # Each service's own seed, in its own database: the national series and its nine sessions; the 56
    # states, territories and DC.
    assert (count(tmp_path / "content.db", "series"), count(tmp_path / "content.db", "modules")) == (1, 9)
    assert count(tmp_path / "scheduling.db", "jurisdictions") == 56
    assert not (tmp_path / "notifications.db").exists() and not (tmp_path / "coaching.db").exists()

    # Again, as every `make run` does: nothing twice.
    again = manage("migrate", "seed", "--service", "content", "--service", "scheduling", data_dir=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (count(tmp_path / "content.db", "series"), count(tmp_path / "scheduling.db", "jurisdictions")) == (1, 56)


def test_an_unknown_service_or_command_is_refused_before_anything_runs(tmp_path):
    for arguments in (("migrate", "--service", "billing"), ("drop",), ()):
        refused = manage(*arguments, data_dir=tmp_path)
        assert refused.returncode == 2, arguments  # argparse's usage error
        assert "usage:" in refused.stderr
    assert not list(tmp_path.iterdir())
