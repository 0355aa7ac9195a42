"""The engine: on PostgreSQL a connection the server closed is never handed out; on SQLite a unit of work
takes the write lock first."""

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


@pytest.mark.postgres  # the server itself, not the `database` fixture that marks the others
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


def test_on_sqlite_a_unit_of_work_that_reads_first_still_writes_after_another_process_committed(tmp_path):
    """Two processes on one SQLite file (an API and its worker): a read-then-write unit of work waits
    for the other writer instead of failing with "database is locked"."""
    import threading

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    api, worker = Database(url), Database(url)
    try:
        with api.engine.begin() as conn:
            conn.execute(text("CREATE TABLE notes (body TEXT)"))
        read, worker_done, failures = threading.Event(), threading.Event(), []

        def worker_writes():
            try:
                assert read.wait(10)
                with worker.unit_of_work() as uow:
                    uow.session.execute(text("INSERT INTO notes VALUES ('from the worker')"))
                    uow.commit()
            except Exception as exc:  # noqa: BLE001 - reported by the test
                failures.append(exc)
            finally:
                worker_done.set()

        thread = threading.Thread(target=worker_writes)
        thread.start()
        with api.unit_of_work() as uow:
            assert uow.session.execute(text("SELECT count(*) FROM notes")).scalar() == 0
            read.set()
            worker_done.wait(0.5)  # the worker commits here unless this unit of work holds the write lock
            uow.session.execute(text("INSERT INTO notes VALUES ('from the api')"))
            uow.commit()
        thread.join(30)
        assert failures == []
        with api.session() as session:
            assert sorted(session.execute(text("SELECT body FROM notes")).scalars()) == [
                "from the api",
                "from the worker",
            ]
    finally:
        api.dispose()
        worker.dispose()


@pytest.mark.postgres
def test_a_statement_run_many_times_is_planned_for_its_own_values_never_a_generic_plan(engine_db):
    """psycopg prepares a statement on its fifth run, and PostgreSQL then switches it to one generic
    plan that ignores the values bound. For a keyset page that plan cannot see where the cursor is:
    at a national year's size the export's deep pages took 200 to 450 ms with it, against 20 to 60 ms
    planned for their values (``python -m bench.export``)."""
    with engine_db.engine.connect() as conn:
        conn.execute(text("CREATE TEMPORARY TABLE page_keys (at integer, id text)"))
        conn.execute(text("INSERT INTO page_keys SELECT n % 97, n::text FROM generate_series(1, 2000) AS n"))
        for n in range(20):
            conn.execute(
                text("SELECT id FROM page_keys WHERE (at, id) > (:at, :id) ORDER BY at, id LIMIT 5"),
                {"at": n, "id": str(n)},
            ).all()
        generic, custom = conn.execute(
            text(
                "SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0) "
                "FROM pg_prepared_statements WHERE statement LIKE '%page_keys WHERE%'"
            )
        ).one()
    assert custom > 0, "the statement was never prepared: this test no longer checks anything"
    assert generic == 0


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_insert_many_leaves_out_rows_whose_unique_key_is_taken_and_fails_without_being_asked(database):
    """Already written, or twice in one call: left out when asked (here in the last table of a call with a companion);
    otherwise the unique key fails the transaction as before."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint, select

    from shared.db import IntegrityError, ensure_schema, insert_many

    db = Database(database["url"], schema=database["schema"])
    metadata = MetaData(schema=database["schema"])
    people = Table("people", metadata, Column("id", Integer, primary_key=True), Column("name", String(20)))
    messages = Table(
        "messages",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("event", String(20)),
        Column("address", String(40)),
        UniqueConstraint("event", "address"),
    )
    try:
        ensure_schema(db.engine, database["schema"])
        metadata.create_all(db.engine)
        with db.unit_of_work() as uow:
            insert_many(uow.session, [(messages, [{"id": 1, "event": "e1", "address": "family@example.org"}])])
            uow.commit()
        rows = [
            {"id": 2, "event": "e1", "address": "family@example.org"},  # already written
            {"id": 3, "event": "e2", "address": "a@example.org"},
            {"id": 4, "event": "e2", "address": "a@example.org"},  # twice in this call
        ]
        with db.unit_of_work() as uow:
            insert_many(
                uow.session,
                [(people, [{"id": 1, "name": "Ana"}]), (messages, rows)],
                skip_duplicates={"messages": ("event", "address")},
            )
            uow.commit()
        with db.session() as session:
            assert session.execute(select(messages.c.id).order_by(messages.c.id)).scalars().all() == [1, 3]
            assert session.execute(select(people.c.name)).scalars().all() == ["Ana"]
        with pytest.raises(IntegrityError), db.unit_of_work() as uow:
            insert_many(uow.session, [(messages, [{"id": 5, "event": "e2", "address": "a@example.org"}])])
    finally:
        metadata.drop_all(db.engine)
        db.dispose()
