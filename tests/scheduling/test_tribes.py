"""Tribes are tenants: a Tribe a national admin adds in scheduling may use scheduling at once, and content
once the event ``scheduling.jurisdiction.added`` reaches it; unknown codes stay refused everywhere."""

from __future__ import annotations

import json
import math
import time

import pytest
from sqlalchemy import event, func, select

from services.content.handlers import HANDLERS as CONTENT_HANDLERS
from services.content.models import Jurisdiction as ContentJurisdiction
from services.scheduling.models import platform
from shared.messaging.bus import Outgoing, Publisher
from shared.messaging.consumer import EventConsumer
from shared.messaging.outbox import OutboxRelay
from shared.messaging.topology import SUBSCRIPTIONS
from shared.testing import drop_pg_schema, require_postgres, unique_name, wait_until
from tests.conftest import config_overrides, migrated_context
from tests.helpers import auth
from tests.shared.probe import Running

TRIBE = {"code": "NAVAJO-NATION", "name": "Navajo Nation", "kind": "tribe", "default_time_zone": "America/Denver"}
AGENCY = {"name": "Diné Early Learning", "email": "training@example.org", "coordinators": ["coord-nn"]}
PAIRS = [
    pytest.param("sqlite", "filesystem", id="sqlite+filesystem"),
    pytest.param("postgres", "rabbitmq", id="postgres+rabbitmq"),
]


def add_tribe(sclient, tokens, tribe=TRIBE):
    added = sclient.post("/jurisdictions", json=tribe, headers=tokens.headers("national_admin", "US"))
    assert added.status_code == 201, added.get_data(as_text=True)
    return added


def announcements(ctx) -> list[dict]:
    with ctx.db.session() as session:
        bodies = session.scalars(
            select(platform.outbox.body).where(platform.outbox.event_type == "scheduling.jurisdiction.added")
        )
        return [json.loads(body) for body in bodies]


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_a_tribe_added_in_scheduling_may_use_scheduling_at_once(sclient, tokens, scheduling_ctx, database):
    admin = auth(tokens, ("jurisdiction_admin", "NAVAJO-NATION", "admin-nn"))
    refused = sclient.post("/agencies", json=AGENCY, headers=admin)
    assert refused.status_code == 403 and refused.json["title"] == "Unknown jurisdiction"

    add_tribe(sclient, tokens)
    created = sclient.post("/agencies", json=AGENCY, headers=admin)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.json["tenant"] == "NAVAJO-NATION"
    [announced] = announcements(scheduling_ctx)  # committed with the Tribe, through the outbox
    assert (announced["subject"], announced["tenant"]) == ("NAVAJO-NATION", "NAVAJO-NATION")
    assert announced["data"] == TRIBE
    assert announced["dataschema"] == "urn:t4t:event:scheduling.jurisdiction.added:v1"


def test_another_process_of_scheduling_lets_the_tribe_in_within_seconds(sclient, tokens, scheduling_ctx):
    """A second gunicorn worker, which did not add the Tribe, reads it from the table."""
    from services.scheduling.app import create_app
    from services.scheduling.bootstrap import build_context

    other = build_context(scheduling_ctx.config)
    try:
        other_client = create_app(other).test_client()
        admin = auth(tokens, ("jurisdiction_admin", "NAVAJO-NATION", "admin-nn"))
        assert other_client.get("/agencies", headers=admin).status_code == 403
        add_tribe(sclient, tokens)
        wait_until(
            lambda: other_client.get("/agencies", headers=admin).status_code == 200,
            timeout=5,
            message="the other process to let the Tribe in",
        )
    finally:
        other.db.dispose()


def test_a_well_formed_but_unknown_code_is_still_refused(sclient, tokens):
    add_tribe(sclient, tokens)
    for tenant in ("NAVAJO", "navajo-nation", "ZZ"):
        refused = sclient.get("/agencies", headers=auth(tokens, ("jurisdiction_admin", tenant, "someone")))
        assert refused.status_code == 403 and repr(tenant) in refused.json["detail"]


def test_a_tribe_s_api_key_works_like_a_state_s(sclient, tokens):
    add_tribe(sclient, tokens)
    created = sclient.post(
        "/api-keys",
        json={"name": "tribal registry"},
        headers=auth(tokens, ("jurisdiction_admin", "NAVAJO-NATION", "admin-nn")),
    )
    assert created.status_code == 201 and created.json["tenant"] == "NAVAJO-NATION"
    assert sclient.get("/agencies", headers={"X-API-Key": created.json["key"]}).status_code == 200


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_a_flood_of_unknown_codes_barely_reaches_the_database(sclient, tokens, scheduling_ctx, database):
    reads = []

    def count(_conn, _cursor, statement, *_args):
        if "jurisdictions" in statement:
            reads.append(statement)

    flood = [auth(tokens, ("jurisdiction_admin", f"ZZ{n}", "someone")) for n in range(60)]
    event.listen(scheduling_ctx.db.engine, "before_cursor_execute", count)
    started = time.monotonic()
    try:
        for headers in flood:
            assert sclient.get("/agencies", headers=headers).status_code == 403
    finally:
        elapsed = time.monotonic() - started
        event.remove(scheduling_ctx.db.engine, "before_cursor_execute", count)
    # One read per refresh interval (2 s) at most, however many codes: not one per request.
    assert 1 <= len(reads) <= 1 + math.ceil(elapsed / scheduling_ctx.jurisdictions.refresh_seconds)
    assert scheduling_ctx.jurisdictions.reads == len(reads)


def test_announce_tribes_announces_every_tribe_again(
    sclient, tokens, scheduling_ctx, monkeypatch, tmp_path, signing_key_file
):
    from services.scheduling.manage import main

    add_tribe(sclient, tokens)
    add_tribe(sclient, tokens, {**TRIBE, "code": "HOPI", "name": "Hopi Tribe", "default_time_zone": "America/Phoenix"})
    config = scheduling_ctx.config
    monkeypatch.setenv("SCHEDULING_DATABASE_URL", config.database_url)
    monkeypatch.setenv("SCHEDULING_DB_SCHEMA", config.db_schema)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JWT_DEV_PRIVATE_KEY_FILE", signing_key_file)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    assert main(["announce-tribes"]) == 0
    codes = sorted(a["data"]["code"] for a in announcements(scheduling_ctx))
    assert codes == ["HOPI", "HOPI", "NAVAJO-NATION", "NAVAJO-NATION"]  # the states are not announced


# --- content learns of the Tribe from the event -----------------------------------------------------


@pytest.fixture
def content_side(database, broker, signing_key_file, tmp_path):
    """Content on a database of its own (services never share one), on the same broker as scheduling."""
    from services.content.app import create_app
    from services.content.config import ContentConfig

    if database["backend"] == "postgres":
        require_postgres()
        own = {**database, "schema": unique_name("content")}
    else:
        own = {**database, "url": f"sqlite:///{tmp_path / 'content.db'}"}
    ctx = migrated_context(
        "content",
        ContentConfig,
        dict(storage_dir=str(tmp_path / "files"), **config_overrides(own, broker, signing_key_file, tmp_path)),
    )
    yield ctx, create_app(ctx).test_client()
    ctx.db.dispose()
    if database["backend"] == "postgres":
        drop_pg_schema(own["schema"])


def content_tribes(ctx) -> list[ContentJurisdiction]:
    with ctx.db.session() as session:
        return list(session.scalars(select(ContentJurisdiction)))


def content_consumer(ctx) -> EventConsumer:
    # As content's worker runs it (shared.messaging.worker.run_worker).
    return EventConsumer(ctx.extra["bus"], ctx.db, ctx.tables, "content", CONTENT_HANDLERS, prefetch=10)


def inbox_rows(ctx) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(ctx.tables.inbox))


@pytest.mark.parametrize("database,broker", PAIRS, indirect=True)
def test_content_lets_a_tribe_in_once_the_event_reaches_it(sclient, tokens, scheduling_ctx, content_side, broker):
    content_ctx, content_client = content_side
    tribe_admin = auth(tokens, ("jurisdiction_admin", "NAVAJO-NATION", "admin-nn"))
    assert content_client.get("/series", headers=tribe_admin).status_code == 403

    with Running(content_consumer(content_ctx)) as consumer:
        wait_until(consumer.ready.is_set, message="content's consumer to be ready")
        add_tribe(sclient, tokens)
        relay = OutboxRelay(
            scheduling_ctx.db, scheduling_ctx.tables, scheduling_ctx.extra["bus"], poll_interval=0.02, max_backoff=0.5
        )
        with Running(relay):
            wait_until(lambda: content_tribes(content_ctx), message="content to record the Tribe")
    [row] = content_tribes(content_ctx)
    assert (row.code, row.name, row.kind, row.default_time_zone) == (
        "NAVAJO-NATION",
        "Navajo Nation",
        "tribe",
        "America/Denver",
    )

    # Within the registry's refresh interval (2 s), without restarting anything.
    wait_until(
        lambda: content_client.get("/series", headers=tribe_admin).status_code == 200,
        timeout=5,
        message="content to let the Tribe in",
    )
    assert content_client.get("/series", headers=tribe_admin).json["items"]  # the national curriculum
    for tenant in ("NAVAJO", "ZZ", "navajo-nation"):
        refused = content_client.get("/series", headers=auth(tokens, ("jurisdiction_admin", tenant, "x")))
        assert refused.status_code == 403 and refused.json["title"] == "Unknown jurisdiction"


@pytest.mark.parametrize("database,broker", PAIRS, indirect=True)
def test_a_redelivered_or_re_announced_tribe_has_no_second_effect(sclient, tokens, scheduling_ctx, content_side):
    content_ctx, _ = content_side
    add_tribe(sclient, tokens)
    [announced] = announcements(scheduling_ctx)
    bus = scheduling_ctx.extra["bus"]
    with Running(content_consumer(content_ctx)) as consumer:
        wait_until(consumer.ready.is_set, message="content's consumer to be ready")
        with bus.connection() as conn:
            bus.declare(conn.default_channel)
            publisher = Publisher(bus, conn)
            for message_id in ("first", "redelivery"):  # the same event twice, as a broker may deliver it
                publisher.publish(
                    Outgoing(
                        message_id=message_id,
                        exchange=bus.topology.exchange,
                        routing_key=announced["type"],
                        body=json.dumps(announced),
                    )
                )
        wait_until(
            lambda: inbox_rows(content_ctx) == 1 and content_tribes(content_ctx),
            message="the first delivery to be handled",
        )
        [first] = content_tribes(content_ctx)

        # An operator re-announces every Tribe (a new event of the same Tribe): still one row.
        from services.scheduling.use_cases.agencies import announce_tribes

        with scheduling_ctx.db.unit_of_work() as uow:
            assert announce_tribes(uow) == 1
        relay = OutboxRelay(scheduling_ctx.db, scheduling_ctx.tables, bus, poll_interval=0.02, max_backoff=0.5)
        with Running(relay):
            # The relay sends the original once more, then the re-announcement; one consumer handles in order.
            wait_until(lambda: inbox_rows(content_ctx) == 2, message="the re-announcement to be handled")
    [row] = content_tribes(content_ctx)
    assert (row.code, row.name, row.default_time_zone) == (first.code, first.name, first.default_time_zone)
    assert inbox_rows(content_ctx) == 2  # the original (delivered three times) and the re-announcement


def test_content_s_handlers_agree_with_the_platform_topology():
    assert {s.handler for s in SUBSCRIPTIONS if s.consumer == "content"} == set(CONTENT_HANDLERS)


def test_an_unreadable_list_of_jurisdictions_is_a_503_not_a_403(sclient, tokens, scheduling_ctx):
    from shared.jurisdictions import JurisdictionRegistry

    def database_away():
        raise ConnectionError("the database is away")

    scheduling_ctx.jurisdictions = JurisdictionRegistry(database_away)
    answer = sclient.get("/agencies", headers=auth(tokens, ("jurisdiction_admin", "NAVAJO-NATION", "admin-nn")))
    assert answer.status_code == 503 and answer.mimetype == "application/problem+json"
    assert int(answer.headers["Retry-After"]) >= 1
    # The static list needs no read: states and territories carry on.
    assert sclient.get("/agencies", headers=auth(tokens, ("jurisdiction_admin", "CA", "admin-ca"))).status_code == 200
