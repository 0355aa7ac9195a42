"""Incremental sync (changed_after) is lossless: a state system that syncs while many people write misses nothing."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from services.scheduling.models import Registration, SelfReportedHours, TrainingSession
from services.scheduling.use_cases import attendance, hours
from shared.auth import FACILITATOR, JURISDICTION_ADMIN, Principal
from shared.db import Database
from shared.testing import wait_until
from tests.helpers import assert_problem
from tests.scheduling import factories

BACKENDS = ["sqlite", "postgres"]
ADMIN = Principal(sub="admin-ca", tenant="CA", roles=frozenset({JURISDICTION_ADMIN}))
WRITERS, MARKS_PER_WRITER, REPORTS_PER_WRITER = 6, 9, 8


def admin_headers(tokens) -> dict:
    return tokens.headers("jurisdiction_admin", "CA", sub="admin-ca")


class Registry:
    """A state registry's copy of the training hours, kept by the documented protocol (docs/api.md)."""

    def __init__(
        self,
        client,
        headers,
        path="/training-hours",
        key=lambda row: (row["verification"], row["registration_id"] or row["self_reported_id"]),
    ):
        self.client, self.headers, self.path, self.key = client, headers, path, key
        self.rows: dict = {}
        self.deliveries: list = []  # (key, change) of every row received
        self.last_change = 0

    def sync(self) -> None:
        params = {"changed_after": self.last_change, "limit": 7}
        while True:
            response = self.client.get(self.path, query_string=params, headers=self.headers)
            assert response.status_code == 200, response.json
            page = response.json
            for row in page["items"]:
                self.rows[self.key(row)] = row
                self.deliveries.append((self.key(row), row.get("change")))
            if "next_cursor" not in page:
                self.last_change = page["last_change"]
                return
            params["cursor"] = page["next_cursor"]


def full_export(client, headers) -> dict:
    rows, params = {}, {"limit": 200}
    while True:
        page = client.get("/training-hours", query_string=params, headers=headers).json
        rows.update({(r["verification"], r["registration_id"] or r["self_reported_id"]): r for r in page["items"]})
        if "next_cursor" not in page:
            return rows
        params["cursor"] = page["next_cursor"]


def comparable(row: dict) -> tuple:
    return (row["minutes"], row["sessions_attended"], row["completed"], row["status"], row["name"])


def arrange_cohorts(ctx, count: int, people: int = 4) -> list[tuple[list[str], list[str]]]:
    """``count`` cohorts of nine past sessions, each with ``people`` confirmed registrations."""
    made = []
    with ctx.db.unit_of_work() as uow:
        for n in range(count):
            cohort = factories.cohort(
                uow.session,
                facilitators=("fac-ca",),
                completion_minimum=9,
                first_day=datetime.now(UTC) - timedelta(weeks=10),
                book_resources=False,
            )
            regs = [factories.registration(uow.session, cohort, f"person-{n}-{p}").id for p in range(people)]
            sessions = uow.session.scalars(
                select(TrainingSession.id)
                .where(TrainingSession.cohort_id == cohort.id)
                .order_by(TrainingSession.starts_at)
            ).all()
            made.append((regs, list(sessions)))
        uow.commit()
    return made


def slow_commits(db: Database) -> None:
    """Every transaction of ``db`` waits a little between its last write and its commit.

    Widens the window in which a transaction that wrote first commits last: the very case a
    timestamp-based sync loses.
    """
    rng = random.Random(7)

    @event.listens_for(db.engine, "commit")
    def _pause(_connection):
        time.sleep(rng.uniform(0, 0.05))


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_registry_syncing_while_many_people_write_misses_nothing(scheduling_app, scheduling_ctx, tokens, database):
    cohorts = arrange_cohorts(scheduling_ctx, WRITERS)
    writers_db = Database(scheduling_ctx.db.url, schema=scheduling_ctx.db.schema, pool_size=WRITERS + 2)
    if writers_db.is_postgres:  # SQLite's writers take turns: a pause would only make them queue
        slow_commits(writers_db)
    facilitator = Principal(sub="fac-ca", tenant="CA", roles=frozenset({FACILITATOR}))
    failures: list[BaseException] = []

    def write(n: int):
        regs, sessions = cohorts[n]
        rng = random.Random(n)
        try:
            for index in range(MARKS_PER_WRITER):
                # Each session marked, then one of them marked again: rows change while the registry reads.
                records = [{"registration_id": r, "status": rng.choice(["present", "absent"])} for r in regs]
                with writers_db.unit_of_work() as uow:
                    attendance.record_attendance(sessions[index], records, uow, facilitator, opens_minutes=30)
                if index < REPORTS_PER_WRITER:
                    with writers_db.unit_of_work() as uow:
                        hours.report_hours(
                            {
                                "participant": f"person-{n}-{index % 4}",
                                "title": f"Course {index}",
                                "provider": "Community college",
                                "minutes": 60 + index,
                                "completed_on": date(2026, 1, 1 + index),
                            },
                            uow,
                            ADMIN,
                        )
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    registry = Registry(scheduling_app.test_client(), admin_headers(tokens))
    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    try:
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            registry.sync()  # syncs keep running while the writers write
        for thread in threads:
            thread.join(60)
    finally:
        writers_db.dispose()
    assert failures == []

    client = scheduling_app.test_client()
    expected = full_export(client, admin_headers(tokens))
    assert len(expected) == WRITERS * (4 + REPORTS_PER_WRITER)
    deadline = time.monotonic() + 30
    # On PostgreSQL the last changes come once no older transaction of the server is still open.
    while {k: comparable(r) for k, r in registry.rows.items()} != {k: comparable(r) for k, r in expected.items()}:
        assert time.monotonic() < deadline, "the registry's copy never caught up with the export"
        time.sleep(0.1)
        registry.sync()
    # A row comes again only when it changed again: never the same change twice.
    assert len(registry.deliveries) == len(set(registry.deliveries))


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_a_change_committed_late_with_an_earlier_marker_still_reaches_the_registry(
    scheduling_app, scheduling_ctx, tokens, database
):
    client, headers = scheduling_app.test_client(), admin_headers(tokens)
    registry = Registry(client, headers)
    registry.sync()
    report = {
        "participant": "ana-lopez",
        "title": "CPR",
        "provider": "Red Cross",
        "minutes": 90,
        "completed_on": date(2026, 3, 2),
    }
    with scheduling_ctx.db.unit_of_work() as slow:
        early = SelfReportedHours(
            tenant="CA",
            participant="ana-lopez",
            name="Ana",
            title="First aid",
            provider="Red Cross",
            completed_on=date(2026, 3, 1),
            minutes=60,
        )
        slow.session.add(early)
        slow.session.flush()  # written first: its updated_at and its transaction come first
        with scheduling_ctx.db.unit_of_work() as fast:
            hours.report_hours(report, fast, ADMIN)  # committed first
        # Filtering on time, the late row would be lost: the newest time seen is already past it.
        newest = max(r["updated_at"] for r in client.get("/training-hours", headers=headers).json["items"])
        assert newest > early.updated_at.isoformat()
        registry.sync()
        assert registry.rows == {}, "a change was handed out while an older transaction could still commit"
        slow.commit()
    deadline = time.monotonic() + 30
    while len(registry.rows) < 2:
        assert time.monotonic() < deadline, "the registry never received both entries"
        time.sleep(0.05)
        registry.sync()
    assert sorted(r["title"] for r in registry.rows.values()) == ["CPR", "First aid"]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_every_write_transaction_on_sqlite_gets_the_next_marker(scheduling_ctx, database):
    markers = []
    for title in ("First aid", "CPR"):
        with scheduling_ctx.db.unit_of_work() as uow:
            hours.report_hours(
                {
                    "participant": "ana-lopez",
                    "title": title,
                    "provider": "Red Cross",
                    "minutes": 60,
                    "completed_on": date(2026, 3, 1),
                },
                uow,
                ADMIN,
            )
        with scheduling_ctx.db.session() as session:
            markers.append(session.scalar(select(SelfReportedHours.change).where(SelfReportedHours.title == title)))
    assert markers[0] < markers[1]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_changed_after_is_refused_where_there_are_no_markers_and_with_updated_since(sclient, tokens, database):
    headers = admin_headers(tokens)
    assert_problem(sclient.get("/jurisdictions?changed_after=0", headers=headers), 422, "changed_after")
    assert_problem(sclient.get("/training-hours?changed_after=-1", headers=headers), 422, "changed_after")
    assert_problem(
        sclient.get("/training-hours?changed_after=0&updated_since=2026-01-01T00:00:00Z", headers=headers),
        422,
        "updated_since",
    )


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_every_synced_list_of_scheduling_walks_by_change_marker(sclient, scheduling_ctx, tokens, database):
    with scheduling_ctx.db.unit_of_work() as uow:
        cohort = factories.cohort(uow.session, facilitators=("fac-ca",))
        factories.registration(uow.session, cohort, "ana-lopez")
        cohort_id = cohort.id
        uow.commit()
    headers = admin_headers(tokens)
    registrations = f"/cohorts/{cohort_id}/registrations"
    for path in (
        "/agencies",
        "/cohorts",
        f"/cohorts/{cohort_id}/sessions",
        "/sessions",
        registrations,
        "/requests",
        "/training-hours",
        "/training-hours/self-reported",
        "/api-keys",
    ):
        first = sclient.get(path, query_string={"changed_after": 0}, headers=headers)
        assert first.status_code == 200, (path, first.json)
        again = sclient.get(path, query_string={"changed_after": first.json["last_change"]}, headers=headers)
        assert again.status_code == 200 and again.json["last_change"] >= first.json["last_change"], path
    synced = wait_until(
        lambda: (
            (page := sclient.get(registrations, query_string={"changed_after": 0}, headers=headers).json)["items"]
            and page
        ),
        timeout=30,
    )
    assert [r["participant"] for r in synced["items"]] == ["ana-lopez"]
    with scheduling_ctx.db.unit_of_work() as uow:
        registration = uow.session.scalars(select(Registration).where(Registration.cohort_id == cohort_id)).one()
        registration.name = "Ana López"
        uow.commit()

    def changed():
        # On PostgreSQL a change comes once every transaction older than it has ended (others' too).
        page = sclient.get(registrations, query_string={"changed_after": synced["last_change"]}, headers=headers).json
        return page if page["items"] else None

    changed = wait_until(changed, timeout=30)
    assert [r["name"] for r in changed["items"]] == ["Ana López"]
    assert changed["last_change"] > synced["last_change"]
