"""The pipeline benchmark's own tools: its observer sees every event and only them; its schemas
hold a deployed platform's history, analysed, so the planner looks a batch up by its keys."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bench import pipeline
from services.notifications import repository as repo
from services.notifications.bootstrap import MIGRATIONS as NOTIFICATIONS
from services.scheduling.bootstrap import MIGRATIONS as SCHEDULING
from shared.db import Database
from shared.migrations import upgrade

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("database", ["postgres"], indirect=True)]


def _connect(database):
    url = make_url(database["url"]).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(url, autocommit=True)


def _inbox(pg, schema):
    pg.execute(f"CREATE SCHEMA {schema}")
    pg.execute(f"CREATE TABLE {schema}.inbox (consumer text, event_id text, PRIMARY KEY (consumer, event_id))")
    return f"SELECT event_id FROM {schema}.inbox WHERE consumer = %s AND event_id = ANY(%s)"


def test_the_observer_waits_for_the_last_event_even_when_it_comes_out_of_order(database):
    ids = [str(uuid.uuid4()) for _ in range(450)]
    with _connect(database) as pg:
        sql = _inbox(pg, database["schema"])
        table = f"{database['schema']}.inbox"
        pg.execute(f"INSERT INTO {table} SELECT 'q', unnest(%s::text[])", (ids[1:],))
        pg.execute(f"INSERT INTO {table} VALUES ('other queue', %s)", (ids[0],))

        def late():
            time.sleep(0.5)
            with _connect(database) as writer:
                writer.execute(f"INSERT INTO {table} VALUES ('q', %s)", (ids[0],))

        writer = threading.Thread(target=late)
        started = time.monotonic()
        writer.start()
        assert pipeline._until_all_handled(pg, sql, "q", ids, timeout=10)
        writer.join()
        assert time.monotonic() - started >= 0.5


def test_the_observer_reports_an_event_that_never_came(database):
    ids = [str(uuid.uuid4()) for _ in range(300)]
    with _connect(database) as pg:
        sql = _inbox(pg, database["schema"])
        pg.execute(f"INSERT INTO {database['schema']}.inbox SELECT 'q', unnest(%s::text[])", (ids[:-1],))

        assert not pipeline._until_all_handled(pg, sql, "q", ids, timeout=0.3)


def test_a_batch_of_contact_points_is_looked_up_by_person_in_the_deployed_history(database, monkeypatch):
    monkeypatch.setattr(pipeline, "HISTORY_INBOX", 2_000)
    monkeypatch.setattr(pipeline, "HISTORY_OUTBOX", 1_000)
    s_schema, n_schema = f"{database['schema']}_s", f"{database['schema']}_n"
    upgrade(SCHEDULING, database["url"], s_schema)
    upgrade(NOTIFICATIONS, database["url"], n_schema)

    pipeline._deployed_history(database["url"], s_schema, n_schema, "notifications.notify")

    with _connect(database) as pg:
        counts = {
            table: pg.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
            for schema, table in ((n_schema, "inbox"), (n_schema, "contact_points"), (s_schema, "outbox"))
        }
        people = [r[0] for r in pg.execute(f"SELECT person FROM {n_schema}.contact_points LIMIT 100")]
    assert counts == {"inbox": 2_000, "contact_points": pipeline.HISTORY_PEOPLE, "outbox": 1_000}
    db = Database(database["url"], schema=n_schema)
    try:
        with db.unit_of_work() as uow:
            assert set(repo.contact_points_of(uow.session, "CA", people, for_update=True)) == set(people)
            statement = (
                "EXPLAIN SELECT * FROM contact_points WHERE tenant = 'CA' AND person = ANY(%(people)s) FOR UPDATE"
            )
            plans = [r[0] for r in uow.session.connection().exec_driver_sql(statement, {"people": people})]
    finally:
        db.dispose()
    assert not any("Seq Scan" in line for line in plans), plans
    assert any("Index Cond" in line and "person" in line for line in plans), plans


def test_the_bare_program_writes_what_the_service_writes(database, notifications_ctx, deliver):
    """The second ceiling does the consumer's job: the same e-mails, reminders, contact points and registrants."""
    from datetime import UTC, datetime, timedelta

    from bench import bare_notifier
    from services.notifications.rendering import Renderer

    starts = (datetime.now(UTC) + timedelta(days=9)).replace(minute=0, second=0, microsecond=0)
    events, sessions = pipeline._events(3, starts)
    bare_schema = f"{database['schema']}_bare"
    upgrade(NOTIFICATIONS, database["url"], bare_schema)
    bare_db = Database(database["url"], schema=bare_schema)
    try:
        for db in (notifications_ctx.db, bare_db):
            pipeline._known_sessions(db, sessions)
    finally:
        bare_db.dispose()
    for event in events:
        deliver.event(event)
    with _connect(database) as pg:
        pg.autocommit = False
        bodies = [e.to_json().encode() for e in events]
        config = notifications_ctx.config
        unsubscribe = (config.unsubscribe_secret, config.public_base_url)
        bare_notifier.handle(pg, bare_schema, "notifications.bare", [*bodies, bodies[0]], Renderer(), unsubscribe)
        pg.commit()

        def written(schema):
            return {
                "e-mails": sorted(
                    pg.execute(
                        f"SELECT event_id, recipient, person, template, language, subject, text_body, html_body, "
                        f"invite, status FROM {schema}.deliveries"
                    ).fetchall()
                ),
                "reminders": sorted(
                    pg.execute(f"SELECT session_id, person, minutes_before, due_at, status FROM {schema}.reminders")
                ),
                "contact points": sorted(pg.execute(f"SELECT tenant, person, email FROM {schema}.contact_points")),
                "registrants": sorted(
                    (r[0], sorted(r[1]["registrant_ids"]))
                    for r in pg.execute(f"SELECT session_id, data FROM {schema}.known_sessions")
                ),
                "inbox": sorted(r[0] for r in pg.execute(f"SELECT event_id FROM {schema}.inbox")),
            }

        service, bare = written(database["schema"]), written(bare_schema)
    assert len(service["e-mails"]) == 3 and all(row[8].startswith("BEGIN:VCALENDAR") for row in service["e-mails"])
    assert len(service["reminders"]) == 6
    assert bare == service
