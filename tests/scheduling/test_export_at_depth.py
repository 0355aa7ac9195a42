"""A page of the training-hours export reads a page's worth of rows, however deep, on PostgreSQL.

A migration or a bulk load gives thousands of hours rows one change marker. A state registry syncing
from ``changed_after=0`` then walks a long run of equal markers; each page must start its index scan
at the cursor, not read the run from its start (which made pages of a national year take over a
second), and the horizon of transactions in flight must cost the same however busy the cluster is.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import event, text

from shared.changes import _HORIZON
from shared.testing import POSTGRES_URL

ROWS_PER_TENANT, PAGE = 20_000, 200

_LOAD = [
    """INSERT INTO cohorts (id, tenant, series_id, title, format, time_zone, capacity, facilitators,
                           requires_approval, completion_minimum, status, created_at, updated_at)
       SELECT 'c-' || t, t, 'series', 'Cohort ' || t, 'virtual', 'America/Los_Angeles', 10000, '[]',
              false, 3, 'open', :now, :now
       FROM unnest(ARRAY['CA', 'TX']) AS t""",
    """INSERT INTO registrations (id, tenant, cohort_id, participant, name, status, source, created_at, updated_at)
       SELECT 'r-' || t || '-' || lpad(p::text, 5, '0'), t, 'c-' || t, 'person-' || t || '-' || p, 'Person ' || p,
              'confirmed', 'self', :now, :now
       FROM unnest(ARRAY['CA', 'TX']) AS t, generate_series(1, :rows) AS p""",
    """INSERT INTO registration_hours (registration_id, tenant, cohort_id, minutes, sessions_attended,
                                      sessions_marked, created_at, updated_at)
       SELECT id, tenant, cohort_id, 360, 3, 3, :now, :now FROM registrations""",
]


def blocks_read(plan: dict, relation: str) -> int:
    """Blocks the plan's scans of ``relation`` (its indexes and its heap) touched: what the page read."""
    total = 0
    if plan.get("Relation Name") == relation:
        total += plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)
    for child in plan.get("Plans", []):
        total += blocks_read(child, relation)
    return total


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_every_page_of_a_run_of_equal_markers_reads_only_its_page(sclient, scheduling_ctx, tokens, database):
    with scheduling_ctx.db.engine.begin() as conn:  # one transaction: every row gets the same marker
        for statement in _LOAD:
            conn.execute(text(statement), {"now": datetime.now(UTC), "rows": ROWS_PER_TENANT})
    with scheduling_ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE cohorts, registrations, registration_hours"))

    pages: list[tuple[str, dict]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _executemany):
        if "registration_hours" in statement and "LIMIT" in statement:
            pages.append((statement, dict(parameters)))

    event.listen(scheduling_ctx.db.engine, "before_cursor_execute", keep)
    headers = tokens.headers("jurisdiction_admin", "CA", sub="admin-ca")
    params, seen = {"changed_after": 0, "limit": PAGE}, []
    try:
        while True:
            page = sclient.get("/training-hours", query_string=params, headers=headers)
            assert page.status_code == 200, page.json
            seen += [row["registration_id"] for row in page.json["items"]]
            if "next_cursor" not in page.json:
                break
            params["cursor"] = page.json["next_cursor"]
    finally:
        event.remove(scheduling_ctx.db.engine, "before_cursor_execute", keep)

    assert len(seen) == len(set(seen)) == ROWS_PER_TENANT
    assert len(pages) == ROWS_PER_TENANT // PAGE
    read = []
    with scheduling_ctx.db.engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        for statement, parameters in pages:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0]
            plan = plan if isinstance(plan, list) else json.loads(plan)
            read.append(blocks_read(plan[0]["Plan"], "registration_hours"))
    # Each page reads its own rows: the last page of the run costs what the second does. Read from the
    # run's start, the last would walk some 20,000 index entries more (over a hundred blocks).
    assert read[-1] <= read[1] + 20, read


def lock_rows_read(plan: dict) -> int:
    """Rows the plan read from its copy of the lock table (each CTE scan, times the loops it ran)."""
    total = 0
    if plan.get("Node Type") == "CTE Scan":
        total += (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)) * plan.get("Actual Loops", 1)
    return total + sum(lock_rows_read(child) for child in plan.get("Plans", []))


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_the_horizon_of_transactions_in_flight_costs_one_pass_over_the_lock_table(scheduling_ctx, database):
    """Thirty transactions elsewhere on the cluster, each holding its id and locks on 60 tables: the
    horizon reads the lock table a fixed number of times, not once per transaction in flight (which
    took hundreds of milliseconds of every page on a busy cluster)."""
    busy = []
    try:
        for _ in range(30):
            conn = psycopg.connect(POSTGRES_URL.replace("+psycopg", ""))
            conn.execute("SELECT pg_current_xact_id()")
            for (table,) in conn.execute(
                "SELECT oid::regclass::text FROM pg_class WHERE relkind = 'r' "
                "AND relnamespace = 'pg_catalog'::regnamespace ORDER BY oid LIMIT 60"
            ).fetchall():
                conn.execute(f"SELECT 1 FROM {table} LIMIT 1")
            busy.append(conn)
        with scheduling_ctx.db.engine.connect() as conn:
            locks = conn.execute(text("SELECT count(*) FROM pg_locks")).scalar()
            plan = conn.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) SELECT {_HORIZON}")).scalar()
    finally:
        for conn in busy:
            conn.rollback()
            conn.close()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    assert locks > 30 * 60
    # Other tests' transactions come and go meanwhile; twice the lock table (the transactions holding
    # locks here, then the transaction ids) and a margin, where once per transaction was 30 times.
    assert lock_rows_read(plan[0]["Plan"]) <= 3 * locks


def test_a_cursor_is_bound_with_the_types_of_its_columns():
    """A marker bound as INTEGER beside a BIGINT column is a cross-type row comparison: PostgreSQL then
    cannot start the index scan at the cursor, and with a national year's statistics it chose another
    index and read a whole run of equal markers for every page (over a second each)."""
    from sqlalchemy import BigInteger, String, column, select, table
    from sqlalchemy.dialects import postgresql

    from shared.http.pagination import _after

    rows = table("registration_hours", column("change", BigInteger), column("registration_id", String))
    statement = select(rows).where(_after([rows.c.change, rows.c.registration_id], [3088, "r-1"]))

    sql = str(statement.compile(dialect=postgresql.dialect()))

    assert "(registration_hours.change, registration_hours.registration_id) > (" in sql
    assert "::BIGINT" in sql and "::INTEGER" not in sql
