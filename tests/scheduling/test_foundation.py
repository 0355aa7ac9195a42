"""The scheduling service stands on the foundation: app, migrations, seed, consumer of content events."""

import pytest

from services.scheduling.handlers import HANDLERS
from services.scheduling.models import CurrentMaterial, Jurisdiction
from shared.envelope import make_event
from shared.messaging.topology import SUBSCRIPTIONS


def test_jurisdictions_are_seeded_with_their_zones(scheduling_ctx):
    with scheduling_ctx.db.session() as db:
        assert db.get(Jurisdiction, "GU").default_time_zone == "Pacific/Guam"
        assert db.get(Jurisdiction, "AS").default_time_zone == "Pacific/Pago_Pago"
        assert db.query(Jurisdiction).count() == 56


def test_handlers_agree_with_the_platform_topology():
    subscribed = {s.handler for s in SUBSCRIPTIONS if s.consumer == "scheduling"}
    assert subscribed == set(HANDLERS)


def test_health_and_openapi(sclient):
    from openapi_spec_validator import validate

    assert sclient.get("/healthz").status_code == 200
    validate(sclient.get("/openapi.json").json)


def published(material_id, version, tenant="national", national=True):
    return make_event(
        "content.material.published",
        source="/services/content",
        subject=material_id,
        tenant=tenant,
        data={
            "material_id": material_id,
            "module_id": "module-3",
            "series_id": "s",
            "module_position": 3,
            "kind": "slide_deck",
            "title": f"Deck v{version}",
            "version": version,
            "national": national,
            "published_by": "admin",
        },
    )


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_material_published_keeps_the_newest_version(scheduling_ctx, database):
    for version in (1, 3, 2):  # version 2 arrives late and must not replace 3
        with scheduling_ctx.db.unit_of_work() as uow:
            HANDLERS["attach_material_version"](published("m1", version), uow)
            uow.commit()
    with scheduling_ctx.db.session() as db:
        row = db.get(CurrentMaterial, "m1")
        assert (row.version, row.title, row.tenant) == (3, "Deck v3", None)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_series_titles_come_from_content_events(scheduling_ctx, database):
    from services.scheduling.models import SeriesTitle

    event = make_event(
        "content.material.published",
        source="/services/content",
        subject="m9",
        tenant="national",
        data={
            "material_id": "m9",
            "module_id": "module-1",
            "series_id": "s-rbc",
            "series_title": "Relationship-Based Care for Infants and Toddlers",
            "module_position": 1,
            "kind": "resource",
            "title": "Handout",
            "version": 1,
            "national": True,
            "published_by": "admin",
        },
    )
    with scheduling_ctx.db.unit_of_work() as uow:
        HANDLERS["attach_material_version"](event, uow)
        uow.commit()
    with scheduling_ctx.db.session() as db:
        assert db.get(SeriesTitle, "s-rbc").title == "Relationship-Based Care for Infants and Toddlers"
