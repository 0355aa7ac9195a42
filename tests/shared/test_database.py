"""The engine's disconnect handling on PostgreSQL: a connection the server closed is never handed out."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared.db import Database
from shared.testing import POSTGRES_URL, require_postgres, wait_until


@pytest.fixture()
def engine_db():
    require_postgres()
    db = Database(POSTGRES_URL, pool_size=1)
    yield db
    db.dispose()


def test_a_connection_the_server_terminated_is_replaced_at_checkout(engine_db):
    with engine_db.engine.connect() as conn:
        first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    # The pooled connection is idle now; the server ends it (as on a restart or an idle timeout).
    other = Database(POSTGRES_URL, pool_size=1)
    try:
        with other.engine.begin() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid}).scalar()
        wait_until(lambda: not _alive(other, first_pid), timeout=10, message="the backend to end")
    finally:
        other.dispose()
    # No error for the next user: the dead connection is discarded and a fresh one checked out.
    with engine_db.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first_pid


def _alive(db: Database, pid: int) -> bool:
    with db.engine.connect() as conn:
        return bool(conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar())
