"""Fixtures of the common package's tests that drive both services."""

from __future__ import annotations

import pytest

from tests.conftest import config_overrides, migrated_context


@pytest.fixture
def scheduling_ctx(broker, signing_key_file, tmp_path):
    """The scheduling service beside the content service (each on its own SQLite file)."""
    from services.scheduling.config import SchedulingConfig

    database = {"url": f"sqlite:///{tmp_path / 'scheduling.db'}", "schema": "main"}
    ctx = migrated_context(
        "scheduling", SchedulingConfig, config_overrides(database, broker, signing_key_file, tmp_path)
    )
    yield ctx
    ctx.db.dispose()
