"""Each service's Alembic history builds exactly the tables its models declare, on both engines."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.coaching.bootstrap import MIGRATIONS as COACHING_MIGRATIONS
from services.coaching.models import Base as CoachingBase
from services.content.bootstrap import MIGRATIONS
from services.content.models import Base
from services.notifications.bootstrap import MIGRATIONS as NOTIFICATIONS_MIGRATIONS
from services.notifications.models import Base as NotificationsBase
from services.scheduling.bootstrap import MIGRATIONS as SCHEDULING_MIGRATIONS
from services.scheduling.models import Base as SchedulingBase
from shared.db import create_db_engine
from shared.migrations import alembic_config, upgrade

SERVICES = [
    pytest.param(MIGRATIONS, Base.metadata, id="content"),
    pytest.param(SCHEDULING_MIGRATIONS, SchedulingBase.metadata, id="scheduling"),
    pytest.param(NOTIFICATIONS_MIGRATIONS, NotificationsBase.metadata, id="notifications"),
    pytest.param(COACHING_MIGRATIONS, CoachingBase.metadata, id="coaching"),
]


def index_names(database, table: str) -> set[str]:
    """The names of ``table``'s indexes in the test database as it is now."""
    from sqlalchemy import inspect

    engine = create_db_engine(database["url"], schema=database["schema"])
    try:
        with engine.connect() as conn:
            return {index["name"] for index in inspect(conn).get_indexes(table)}
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("migrations,metadata", SERVICES)
def test_migrations_match_models(database, migrations, metadata):
    upgrade(migrations, database["url"], database["schema"])
    upgrade(migrations, database["url"], database["schema"])  # a second run is a no-op
    engine = create_db_engine(database["url"], schema=database["schema"])
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_each_service_keeps_its_tables_in_its_own_schema(database):
    from sqlalchemy import inspect

    upgrade(MIGRATIONS, database["url"], database["schema"])
    engine = create_db_engine(database["url"])
    try:
        tables = set(inspect(engine).get_table_names(schema=database["schema"]))
        assert {"series", "modules", "outbox", "inbox", "dead_letters", "alembic_version"} <= tables
        assert "series" not in inspect(engine).get_table_names(schema="public")
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_seat_counters_become_spots_without_losing_anyone(database):
    """0002: a cohort's confirmed registrations hold seats and its waitlist keeps its positions (0009
    renames the table they are in from places to spots, rows unchanged)."""
    from sqlalchemy import text

    upgrade(SCHEDULING_MIGRATIONS, database["url"], database["schema"], revision="0001")
    engine = create_db_engine(database["url"], schema=database["schema"])
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO cohorts (id, tenant, series_id, title, format, time_zone, capacity, facilitators, "
                    "requires_approval, completion_minimum, status, confirmed_count, waitlist_seq, created_at, updated_at) "
                    "VALUES ('c1', 'CA', 's', 'T', 'virtual', 'America/Los_Angeles', 2, '[]', false, 9, 'open', 2, 3, "
                    "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
                )
            )
            for n, (status, position) in enumerate(
                [("confirmed", None), ("confirmed", None), ("cancelled", None), ("waitlisted", 2), ("waitlisted", 3)]
            ):
                conn.execute(
                    text(
                        "INSERT INTO registrations (id, tenant, cohort_id, participant, name, status, waitlist_position, "
                        "source, created_at, updated_at) VALUES (:id, 'CA', 'c1', :p, 'N', :s, :w, 'self', "
                        ":at, :at)"
                    ),
                    {"id": f"r{n}", "p": f"p{n}", "s": status, "w": position, "at": f"2026-01-01 00:00:0{n}+00:00"},
                )
        upgrade(SCHEDULING_MIGRATIONS, database["url"], database["schema"])
        with engine.connect() as conn:
            spots = conn.execute(text("SELECT kind, number, registration_id FROM spots ORDER BY kind, number")).all()
        assert [tuple(p) for p in spots] == [
            ("seat", 1, "r0"),
            ("seat", 2, "r1"),
            ("waitlist", 1, ""),
            ("waitlist", 2, "r3"),
            ("waitlist", 3, "r4"),
        ]
        # And back: the counters are what the spots say.
        command.downgrade(alembic_config(SCHEDULING_MIGRATIONS, database["url"], database["schema"]), "0001")
        with engine.connect() as conn:
            assert tuple(conn.execute(text("SELECT confirmed_count, waitlist_seq FROM cohorts")).one()) == (2, 3)
    finally:
        engine.dispose()


DROPPED_INDEXES = [
    # Scheduling's 0003: two indexes nobody reads through.
    pytest.param(
        SCHEDULING_MIGRATIONS,
        {"registrations": "ix_registrations_cohort_id", "registration_audit": "ix_registration_audit_tenant"},
        {},
        id="scheduling",
    ),
    # Notifications' 0003: the indexes its unique constraints already provide; a jurisdiction's
    # reminders are still listed by their own.
    pytest.param(
        NOTIFICATIONS_MIGRATIONS,
        {"contact_points": "ix_contact_points_tenant", "reminders": "ix_reminders_session_id"},
        {"reminders": "ix_reminders_tenant"},
        id="notifications",
    ),
]


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("migrations,dropped,kept", DROPPED_INDEXES)
def test_indexes_a_0003_drops_come_back_on_downgrade_and_go_again(database, migrations, dropped, kept):
    """0003 drops the indexes named; going back to 0002 restores them, and forward again drops them."""

    def present(indexes: dict[str, str]) -> set[str]:
        return {name for table, name in indexes.items() if name in index_names(database, table)}

    upgrade(migrations, database["url"], database["schema"])
    assert present(dropped) == set() and present(kept) == set(kept.values())
    command.downgrade(alembic_config(migrations, database["url"], database["schema"]), "0002")
    assert present(dropped) == set(dropped.values())
    upgrade(migrations, database["url"], database["schema"])
    assert present(dropped) == set()


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_places_become_spots_with_their_keys_and_indexes_and_back(database):
    """0009 renames the seat and waitlist table, its keys and indexes; going back to 0008 restores the old names."""
    from sqlalchemy import inspect

    def names(table: str) -> tuple[set[str], str, set[str]]:
        engine = create_db_engine(database["url"], schema=database["schema"])
        try:
            with engine.connect() as conn:
                found = inspect(conn)
                return (
                    {index["name"] for index in found.get_indexes(table)},
                    found.get_pk_constraint(table)["name"],
                    {key["name"] for key in found.get_foreign_keys(table)},
                )
        finally:
            engine.dispose()

    def tables() -> set[str]:
        engine = create_db_engine(database["url"], schema=database["schema"])
        try:
            with engine.connect() as conn:
                return set(inspect(conn).get_table_names())
        finally:
            engine.dispose()

    upgrade(SCHEDULING_MIGRATIONS, database["url"], database["schema"])
    assert "spots" in tables() and "places" not in tables()
    assert names("spots") == (
        {"ix_spots_free", "ix_spots_free_seats", "ix_spots_registration_id"},
        "pk_spots",
        {"fk_spots_cohort_id_cohorts"},
    )
    command.downgrade(alembic_config(SCHEDULING_MIGRATIONS, database["url"], database["schema"]), "0008")
    assert "places" in tables() and "spots" not in tables()
    assert names("places") == (
        {"ix_places_free", "ix_places_free_seats", "ix_places_registration_id"},
        "pk_places",
        {"fk_places_cohort_id_cohorts"},
    )


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_each_jurisdictions_default_specialist_is_announced_once_on_upgrade(database):
    """Coaching's 0006: notifications hears whom each jurisdiction's new plans get, withdrawn defaults left out."""
    from sqlalchemy import select, text

    from services.coaching.models import platform
    from shared.envelope import parse_event

    upgrade(COACHING_MIGRATIONS, database["url"], database["schema"], revision="0005")
    engine = create_db_engine(database["url"], schema=database["schema"])
    at = "2026-01-01 00:00:00+00:00"
    try:
        with engine.begin() as conn:
            for tenant, default in (("CA", "its-1"), ("TX", "its-tx"), ("NY", None), ("WA", "its-wa")):
                conn.execute(
                    text(
                        "INSERT INTO jurisdiction_settings (tenant, default_specialist, default_time_frame_months, "
                        "national_consent, created_at, updated_at) VALUES (:t, :d, 6, false, :at, :at)"
                    ),
                    {"t": tenant, "d": default, "at": at},
                )
            for tenant, sub, name, withdrawn in (("CA", "its-1", "Ana Álvarez", None), ("TX", "its-tx", "Tex", at)):
                conn.execute(
                    text(
                        "INSERT INTO specialist_names (tenant, sub, name, updated_at, withdrawn_at) "
                        "VALUES (:t, :s, :n, :at, :w)"
                    ),
                    {"t": tenant, "s": sub, "n": name, "at": at, "w": withdrawn},
                )
        upgrade(COACHING_MIGRATIONS, database["url"], database["schema"])
        upgrade(COACHING_MIGRATIONS, database["url"], database["schema"])  # a second run announces nothing more
        with engine.connect() as conn:
            rows = conn.execute(select(platform.outbox.body, platform.outbox.status, platform.outbox.created_at)).all()
        events = sorted((parse_event(body) for body, *_ in rows), key=lambda e: e.tenant)
        assert [(e.type, e.tenant, e.subject) for e in events] == [
            ("coaching.default_specialist.changed", "CA", "CA"),
            ("coaching.default_specialist.changed", "WA", "WA"),  # not signed in yet: named by subject only
        ]
        assert [e.data for e in events] == [
            {"default_specialist": "its-1", "default_specialist_name": "Ana Álvarez"},
            {"default_specialist": "its-wa", "default_specialist_name": None},
        ]
        assert {(status, created_at.tzinfo is not None) for _, status, created_at in rows} == {("pending", True)}
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_notifications_0011_marks_deleted_webhook_subscriptions_as_deleted_for_syncing_systems(database):
    """Notifications' 0011: a subscription deleted before it ("disabled", no event types) becomes "deleted", with
    a newer change marker; one disabled after failing for days stays "disabled"."""
    from sqlalchemy import text

    upgrade(NOTIFICATIONS_MIGRATIONS, database["url"], database["schema"], revision="0010")
    engine = create_db_engine(database["url"], schema=database["schema"])
    at = "2026-01-01 00:00:00+00:00"
    try:
        with engine.begin() as conn:
            for id_, status, types in (
                ("gone", "disabled", "[]"),
                ("failing", "disabled", '["a"]'),
                ("on", "active", '["a"]'),
            ):
                conn.execute(
                    text(
                        "INSERT INTO webhook_subscriptions (id, tenant, url, event_types, secret, description, status, "
                        "created_by, created_at, updated_at) VALUES (:i, 'CA', 'https://x.example', :e, 's', '', :s, "
                        "'admin', :at, :at)"
                    ),
                    {"i": id_, "e": types, "s": status, "at": at},
                )
        with engine.connect() as conn:
            before = dict(conn.execute(text("SELECT id, change FROM webhook_subscriptions")).all())
        upgrade(NOTIFICATIONS_MIGRATIONS, database["url"], database["schema"])
        with engine.connect() as conn:
            after = {
                row.id: (row.status, row.change)
                for row in conn.execute(text("SELECT id, status, change FROM webhook_subscriptions"))
            }
        assert {id_: status for id_, (status, _) in after.items()} == {
            "gone": "deleted",
            "failing": "disabled",
            "on": "active",
        }
        assert after["gone"][1] > max(before.values())  # a list synced with changed_after sees it
        assert after["failing"][1] == before["failing"]
    finally:
        engine.dispose()
