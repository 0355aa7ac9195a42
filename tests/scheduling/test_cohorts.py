"""Host agencies, cohorts and sessions over HTTP: roles, tenancy, time zones, materials and session events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.scheduling.models import (
    Booking,
    Cohort,
    CurrentMaterial,
    HostAgency,
    Room,
    TrainingSession,
    Venue,
    platform,
)
from shared.envelope import parse_event
from tests.helpers import arrange, assert_problem, auth
from tests.scheduling import factories

BACKENDS = ["sqlite", "postgres"]

CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
CA_COORDINATOR = ("agency_coordinator", "CA", "coord-ca")
CA_OTHER_COORDINATOR = ("agency_coordinator", "CA", "coord-other")
CA_FACILITATOR = ("facilitator", "CA", "fac-ca")
CA_PARTICIPANT = ("participant", "CA", "pat-ca")
TX_ADMIN = ("jurisdiction_admin", "TX", "admin-tx")
GU_ADMIN = ("jurisdiction_admin", "GU", "admin-gu")
AS_ADMIN = ("jurisdiction_admin", "AS", "admin-as")
NATIONAL = ("national_admin", "US", "admin-us")


def counts(ctx) -> dict:
    with ctx.db.session() as db:
        return {
            model.__name__: db.scalar(select(func.count()).select_from(model))
            for model in (HostAgency, Venue, Room, Cohort, TrainingSession, Booking, platform.outbox)
        }


def outbox_events(ctx, event_type: str) -> list:
    with ctx.db.session() as db:
        rows = db.scalars(
            select(platform.outbox).where(platform.outbox.event_type == event_type).order_by(platform.outbox.id)
        ).all()
        return [parse_event(row.body) for row in rows]


def cohort_body(**overrides) -> dict:
    body = {
        "series_id": factories.SERIES_ID,
        "title": "Relationship-Based Care, spring",
        "format": "virtual",
        "capacity": 20,
        "facilitators": ["fac-ca"],
    }
    body.update(overrides)
    return body


def create_cohort(client, tokens, who=CA_ADMIN, **overrides) -> dict:
    response = client.post("/cohorts", json=cohort_body(**overrides), headers=auth(tokens, who))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def session_body(**overrides) -> dict:
    body = {
        "module_id": "module-1",
        "module_position": 1,
        "title": "Session 1: Primary care",
        "starts_at": "2031-03-04T09:00:00-08:00",
        "ends_at": "2031-03-04T11:00:00-08:00",
        "meeting_url": "https://meet.example.org/rbc-1",
    }
    body.update(overrides)
    return body


def schedule(client, tokens, cohort_id: str, who=CA_ADMIN, **overrides):
    return client.post(f"/cohorts/{cohort_id}/sessions", json=session_body(**overrides), headers=auth(tokens, who))


def scheduled(client, tokens, cohort_id: str, who=CA_ADMIN, **overrides) -> dict:
    response = schedule(client, tokens, cohort_id, who, **overrides)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


# --- host agencies, venues, rooms ---------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_agencies_venues_and_rooms_by_admins_and_their_coordinators(sclient, tokens, scheduling_ctx, database):
    agency = sclient.post(
        "/agencies",
        headers=auth(tokens, CA_ADMIN),
        json={"name": "Bay Area Child Care Council", "email": "training@example.org", "coordinators": ["coord-ca"]},
    )
    assert agency.status_code == 201, agency.json
    agency = agency.json
    assert (agency["tenant"], agency["coordinators"]) == ("CA", ["coord-ca"])

    venue = sclient.post(
        f"/agencies/{agency['id']}/venues",
        headers=auth(tokens, CA_COORDINATOR),
        json={
            "name": "Oakland Community Center",
            "address": "100 Main St, Oakland, CA",
            "time_zone": "America/Los_Angeles",
        },
    )
    assert venue.status_code == 201, venue.json
    room = sclient.post(
        f"/venues/{venue.json['id']}/rooms",
        headers=auth(tokens, CA_COORDINATOR),
        json={"name": "Room A", "capacity": 30, "accessibility_notes": "Step-free entrance; hearing loop."},
    )
    assert room.status_code == 201, room.json
    assert room.json["venue_id"] == venue.json["id"]
    shown = sclient.get(f"/venues/{venue.json['id']}", headers=auth(tokens, CA_FACILITATOR)).json
    assert [r["name"] for r in shown["rooms"]] == ["Room A"]
    listed = sclient.get(f"/agencies/{agency['id']}/venues", headers=auth(tokens, CA_ADMIN)).json["items"]
    assert listed[0]["rooms"][0]["accessibility_notes"] == "Step-free entrance; hearing loop."

    before = counts(scheduling_ctx)
    venue_body = {"name": "Elsewhere", "address": "1 Elm St", "time_zone": "America/Los_Angeles"}
    # A coordinator of another agency may read but not change; another jurisdiction cannot even see it.
    assert_problem(
        sclient.post(f"/agencies/{agency['id']}/venues", json=venue_body, headers=auth(tokens, CA_OTHER_COORDINATOR)),
        403,
    )
    assert_problem(
        sclient.post(f"/agencies/{agency['id']}/venues", json=venue_body, headers=auth(tokens, TX_ADMIN)), 404
    )
    assert_problem(sclient.get(f"/agencies/{agency['id']}", headers=auth(tokens, TX_ADMIN)), 404)
    assert_problem(
        sclient.post(
            f"/venues/{venue.json['id']}/rooms", json={"name": "B", "capacity": 5}, headers=auth(tokens, TX_ADMIN)
        ),
        404,
    )
    assert_problem(sclient.get(f"/rooms/{room.json['id']}", headers=auth(tokens, TX_ADMIN)), 404)
    assert_problem(
        sclient.post(
            f"/venues/{venue.json['id']}/rooms", json={"name": "B", "capacity": 0}, headers=auth(tokens, CA_ADMIN)
        ),
        422,
        "capacity",
    )
    assert_problem(
        sclient.post(
            f"/agencies/{agency['id']}/venues", json={**venue_body, "time_zone": "PST"}, headers=auth(tokens, CA_ADMIN)
        ),
        422,
        "time_zone",
    )
    assert_problem(
        sclient.post("/agencies", json={"name": "X", "coordinators": "coord-ca"}, headers=auth(tokens, CA_ADMIN)),
        422,
        "coordinators",
    )
    assert_problem(sclient.post("/agencies", json={"name": "X"}, headers=auth(tokens, CA_COORDINATOR)), 403)
    assert counts(scheduling_ctx) == before

    etag = sclient.get(f"/agencies/{agency['id']}", headers=auth(tokens, CA_ADMIN)).headers["ETag"]
    changed = sclient.patch(
        f"/agencies/{agency['id']}",
        json={"coordinators": ["coord-ca", "coord-other"]},
        headers=auth(tokens, CA_ADMIN, **{"If-Match": etag}),
    )
    assert changed.status_code == 200, changed.json
    assert (
        sclient.post(
            f"/agencies/{agency['id']}/venues", json=venue_body, headers=auth(tokens, CA_OTHER_COORDINATOR)
        ).status_code
        == 201
    )


# --- cohorts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_cohorts_created_read_and_changed_within_the_jurisdiction(sclient, tokens, scheduling_ctx, database):
    agency = arrange(scheduling_ctx, lambda db: factories.agency(db, "CA", coordinators=("coord-ca",)))
    by_admin = create_cohort(sclient, tokens)
    assert (by_admin["tenant"], by_admin["time_zone"], by_admin["status"]) == ("CA", "America/Los_Angeles", "open")
    by_coordinator = create_cohort(
        sclient,
        tokens,
        CA_COORDINATOR,
        host_agency_id=agency.id,
        time_zone="America/Los_Angeles",
        title="Agency cohort",
    )
    assert by_coordinator["host_agency_id"] == agency.id
    assert_problem(
        sclient.post("/cohorts", json=cohort_body(), headers=auth(tokens, CA_COORDINATOR)), 422, "host_agency_id"
    )
    assert_problem(
        sclient.post(
            "/cohorts", json=cohort_body(host_agency_id=agency.id), headers=auth(tokens, CA_OTHER_COORDINATOR)
        ),
        403,
    )
    assert_problem(sclient.post("/cohorts", json=cohort_body(), headers=auth(tokens, CA_FACILITATOR)), 403)

    # Participants and facilitators read their jurisdiction's cohorts; nobody else's.
    for who in (CA_PARTICIPANT, CA_FACILITATOR):
        assert sclient.get(f"/cohorts/{by_admin['id']}", headers=auth(tokens, who)).status_code == 200
    assert_problem(sclient.get(f"/cohorts/{by_admin['id']}", headers=auth(tokens, TX_ADMIN)), 404)
    ids = {c["id"] for c in sclient.get("/cohorts", headers=auth(tokens, CA_PARTICIPANT)).json["items"]}
    assert ids == {by_admin["id"], by_coordinator["id"]}
    assert sclient.get("/cohorts", headers=auth(tokens, TX_ADMIN)).json["items"] == []
    assert len(sclient.get("/cohorts", headers=auth(tokens, NATIONAL)).json["items"]) == 2

    # PATCH needs the ETag; capacity has its own endpoint; coordinators change only their agency's cohorts.
    read = sclient.get(f"/cohorts/{by_admin['id']}", headers=auth(tokens, CA_ADMIN))
    etag = read.headers["ETag"]
    assert_problem(
        sclient.patch(f"/cohorts/{by_admin['id']}", json={"title": "New"}, headers=auth(tokens, CA_ADMIN)), 428
    )
    assert_problem(
        sclient.patch(
            f"/cohorts/{by_admin['id']}", json={"capacity": 40}, headers=auth(tokens, CA_ADMIN, **{"If-Match": etag})
        ),
        422,
        "capacity",
    )
    assert_problem(
        sclient.patch(
            f"/cohorts/{by_admin['id']}",
            json={"title": "Mine"},
            headers=auth(tokens, CA_COORDINATOR, **{"If-Match": etag}),
        ),
        403,
    )
    assert_problem(
        sclient.patch(
            f"/cohorts/{by_admin['id']}", json={"title": "Mine"}, headers=auth(tokens, TX_ADMIN, **{"If-Match": etag})
        ),
        404,
    )
    assert_problem(
        sclient.patch(
            f"/cohorts/{by_admin['id']}",
            headers=auth(tokens, CA_ADMIN, **{"If-Match": etag}),
            json={"registration_opens_at": "2031-02-01T00:00:00Z", "registration_closes_at": "2031-01-01T00:00:00Z"},
        ),
        422,
        "registration_closes_at",
    )
    changed = sclient.patch(
        f"/cohorts/{by_admin['id']}",
        headers=auth(tokens, CA_ADMIN, **{"If-Match": etag}),
        json={
            "title": "Relationship-Based Care, evening",
            "facilitators": ["fac-ca", "fac-ca-2"],
            "requires_approval": True,
            "completion_minimum": 8,
            "registration_closes_at": "2031-02-20T17:00:00-08:00",
        },
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["facilitators"] == ["fac-ca", "fac-ca-2"]
    assert changed.json["capacity"] == 20
    assert_problem(
        sclient.patch(
            f"/cohorts/{by_admin['id']}", json={"title": "Stale"}, headers=auth(tokens, CA_ADMIN, **{"If-Match": etag})
        ),
        412,
    )
    assert (
        sclient.patch(
            f"/cohorts/{by_coordinator['id']}",
            json={"title": "Agency cohort, renamed"},
            headers=auth(
                tokens,
                CA_COORDINATOR,
                **{
                    "If-Match": sclient.get(f"/cohorts/{by_coordinator['id']}", headers=auth(tokens, CA_ADMIN)).headers[
                        "ETag"
                    ]
                },
            ),
        ).status_code
        == 200
    )

    since = changed.json["updated_at"]
    recent = sclient.get("/cohorts", query_string={"updated_since": since}, headers=auth(tokens, CA_ADMIN)).json
    assert by_admin["id"] in {c["id"] for c in recent["items"]}
    assert sclient.get("/cohorts?status=closed", headers=auth(tokens, CA_ADMIN)).json["items"] == []
    assert len(sclient.get("/cohorts?status=open", headers=auth(tokens, CA_ADMIN)).json["items"]) == 2


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_cohorts_are_listed_by_a_person_they_name_as_facilitator(sclient, tokens, scheduling_ctx, database):
    hers = create_cohort(sclient, tokens, title="Hers", facilitators=["fac-ca", "fac-two"])
    also_hers = create_cohort(sclient, tokens, title="Also hers", facilitators=["fac-two"])
    create_cohort(sclient, tokens, title="Not hers", facilitators=["fac-ca"])
    create_cohort(sclient, tokens, TX_ADMIN, title="Texas", facilitators=["fac-two"])
    admin = auth(tokens, CA_ADMIN)

    listed = sclient.get("/cohorts", query_string={"facilitator": "fac-two"}, headers=admin)
    assert listed.status_code == 200
    assert sorted(c["title"] for c in listed.json["items"]) == sorted([hers["title"], also_hers["title"]])
    # A subject that is a prefix of another's, or nobody's, matches no cohort.
    assert sclient.get("/cohorts", query_string={"facilitator": "fac"}, headers=admin).json["items"] == []
    assert_problem(sclient.get("/cohorts", query_string={"facilitator": "x" * 201}, headers=admin), 422, "facilitator")


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_cohorts_with_a_session_ahead_are_listed_apart_from_those_behind_or_cancelled(
    sclient, tokens, scheduling_ctx, database
):
    ahead = create_cohort(sclient, tokens, title="Ahead", facilitators=[])
    scheduled(sclient, tokens, ahead["id"], starts_at="2031-03-04T09:00:00-08:00", ends_at="2031-03-04T11:00:00-08:00")
    scheduled(sclient, tokens, ahead["id"], starts_at="2031-05-04T09:00:00-07:00", ends_at="2031-05-04T11:00:00-07:00")
    behind = create_cohort(sclient, tokens, title="Behind", facilitators=[])
    scheduled(sclient, tokens, behind["id"], starts_at="2031-03-01T09:00:00-08:00", ends_at="2031-03-01T11:00:00-08:00")
    called_off = create_cohort(sclient, tokens, title="Its session ahead was cancelled", facilitators=[])
    off = scheduled(
        sclient, tokens, called_off["id"], starts_at="2031-06-01T09:00:00-07:00", ends_at="2031-06-01T11:00:00-07:00"
    )
    assert sclient.post(f"/sessions/{off['id']}/cancel", json={"reason": "No venue."}, headers=auth(tokens, CA_ADMIN))
    create_cohort(sclient, tokens, title="No session yet", facilitators=[])
    texas = create_cohort(sclient, tokens, TX_ADMIN, title="Texas", facilitators=[])
    scheduled(
        sclient,
        tokens,
        texas["id"],
        TX_ADMIN,
        starts_at="2031-05-04T09:00:00-05:00",
        ends_at="2031-05-04T11:00:00-05:00",
    )
    admin = auth(tokens, CA_ADMIN)

    def titles(session_from: str) -> list[str]:
        listed = sclient.get("/cohorts", query_string={"session_from": session_from}, headers=admin)
        assert listed.status_code == 200, listed.json
        return sorted(c["title"] for c in listed.json["items"])

    # A cohort is ahead while one of its scheduled sessions starts at or after the instant, in any zone's spelling.
    assert titles("2031-03-04T17:00:00Z") == ["Ahead"]
    assert titles("2031-03-01T09:00:00-08:00") == ["Ahead", "Behind"]
    assert titles("2031-05-04T16:00:01Z") == []
    assert_problem(sclient.get("/cohorts?session_from=2031-03-04T09:00:00", headers=admin), 422, "session_from")


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_bad_cohorts_are_refused_with_the_field(sclient, tokens, scheduling_ctx, database):
    tx_agency = arrange(scheduling_ctx, lambda db: factories.agency(db, "TX"))
    before = counts(scheduling_ctx)
    for body, field in [
        (cohort_body(time_zone="Pacific/Atlantis"), "time_zone"),
        (cohort_body(capacity=0), "capacity"),
        (cohort_body(format="radio"), "format"),
        (cohort_body(host_agency_id=tx_agency.id), "host_agency_id"),
        (cohort_body(registration_opens_at="2031-01-01T00:00:00"), "registration_opens_at"),
        (
            cohort_body(registration_opens_at="2031-02-01T00:00:00Z", registration_closes_at="2031-01-01T00:00:00Z"),
            "registration_closes_at",
        ),
        (cohort_body(confirmed_count=3), "confirmed_count"),
    ]:
        assert_problem(sclient.post("/cohorts", json=body, headers=auth(tokens, CA_ADMIN)), 422, field)
    assert counts(scheduling_ctx) == before


# --- sessions: rendering in the cohort's zone and the viewer's ----------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_sessions_in_guam_and_american_samoa_render_their_local_times(sclient, tokens, scheduling_ctx, database):
    guam = create_cohort(sclient, tokens, GU_ADMIN, title="Guam cohort", facilitators=["fac-gu"])
    samoa = create_cohort(sclient, tokens, AS_ADMIN, title="American Samoa cohort", facilitators=["fac-as"])
    assert (guam["time_zone"], samoa["time_zone"]) == ("Pacific/Guam", "Pacific/Pago_Pago")

    in_guam = scheduled(
        sclient,
        tokens,
        guam["id"],
        GU_ADMIN,
        starts_at="2031-03-04T09:00:00+10:00",
        ends_at="2031-03-04T11:30:00+10:00",
    )
    assert in_guam["starts_at"] == "2031-03-03T23:00:00+00:00"
    assert in_guam["ends_at"] == "2031-03-04T01:30:00+00:00"
    assert in_guam["time_zone"] == "Pacific/Guam"
    assert in_guam["local_start"] == "2031-03-04T09:00:00+10:00"
    assert in_guam["local_end"] == "2031-03-04T11:30:00+10:00"
    assert in_guam["zone_abbreviation"] == "ChST"
    assert "viewer_start" not in in_guam

    # Sent in UTC, still shown at 09:00 in Pago Pago (UTC-11), a day "behind" Guam.
    in_samoa = scheduled(
        sclient, tokens, samoa["id"], AS_ADMIN, starts_at="2031-03-04T20:00:00Z", ends_at="2031-03-04T22:00:00Z"
    )
    assert in_samoa["local_start"] == "2031-03-04T09:00:00-11:00"
    assert in_samoa["zone_abbreviation"] == "SST"

    viewed = sclient.get(
        f"/sessions/{in_guam['id']}",
        query_string={"viewer_time_zone": "America/New_York"},
        headers=auth(tokens, ("facilitator", "GU", "fac-gu")),
    )
    assert viewed.status_code == 200, viewed.json
    assert viewed.json["local_start"] == "2031-03-04T09:00:00+10:00"
    assert viewed.json["viewer_time_zone"] == "America/New_York"
    assert viewed.json["viewer_start"] == "2031-03-03T18:00:00-05:00"
    assert viewed.json["viewer_end"] == "2031-03-03T20:30:00-05:00"
    assert viewed.json["viewer_zone_abbreviation"] == "EST"
    same = sclient.get(
        f"/sessions/{in_samoa['id']}?viewer_time_zone=Pacific/Pago_Pago", headers=auth(tokens, AS_ADMIN)
    ).json
    assert "viewer_start" not in same
    listed = sclient.get(
        f"/cohorts/{samoa['id']}/sessions?viewer_time_zone=Pacific/Guam", headers=auth(tokens, AS_ADMIN)
    ).json["items"]
    assert listed[0]["viewer_start"] == "2031-03-05T06:00:00+10:00"
    assert listed[0]["zone_abbreviation"] == "SST"
    assert_problem(
        sclient.get(f"/sessions/{in_guam['id']}?viewer_time_zone=Guam/Hagatna", headers=auth(tokens, GU_ADMIN)),
        422,
        "viewer_time_zone",
    )

    [event] = [e for e in outbox_events(scheduling_ctx, "scheduling.session.scheduled") if e.tenant == "GU"]
    assert event.data["local_start"] == "2031-03-04T09:00:00+10:00"
    assert event.data["time_zone"] == "Pacific/Guam"


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_session_scheduled_in_person_with_place_materials_and_registrants(sclient, tokens, scheduling_ctx, database):
    def build(db):
        agency = factories.agency(db, "CA")
        room = factories.room(db, agency)
        cohort = factories.cohort(
            db, tenant="CA", format="hybrid", agency_row=agency, sessions=0, facilitators=("fac-ca", "fac-ca-2")
        )
        factories.registration(db, cohort, "pat-1")
        factories.registration(db, cohort, "pat-2")
        factories.registration(db, cohort, "pat-3", status="waitlisted", position=1)
        factories.registration(db, cohort, "pat-4", status="cancelled")
        published = datetime(2030, 6, 1, tzinfo=UTC)
        for material_id, tenant, title in (
            ("m-national", None, "Slides"),
            ("m-ca", "CA", "California handout"),
            ("m-tx", "TX", "Texas handout"),
        ):
            db.add(
                CurrentMaterial(
                    material_id=material_id,
                    module_id="module-2",
                    tenant=tenant,
                    kind="resource",
                    title=title,
                    version=3,
                    url=f"https://content.example.org/{material_id}",
                    published_at=published,
                )
            )
        return cohort, room

    cohort, room = arrange(scheduling_ctx, build)
    created = scheduled(
        sclient,
        tokens,
        cohort.id,
        module_id="module-2",
        module_position=2,
        title="Session 2: Continuity of care",
        room_id=room.id,
        specialist="spec-ca",
        starts_at="2031-03-11T09:00:00-07:00",
        ends_at="2031-03-11T12:00:00-07:00",
    )
    assert created["facilitators"] == ["fac-ca", "fac-ca-2"]  # the cohort's, by default
    assert created["place"] == {
        "venue_id": room.venue_id,
        "venue": "Community Center",
        "address": "100 Main St, Oakland, CA",
        "room": "Room A",
        "accessibility": "Step-free entrance",
    }
    assert created["meeting_url"] == "https://meet.example.org/rbc-1"
    assert (created["status"], created["sequence"]) == ("scheduled", 0)
    assert created["zone_abbreviation"] == "PDT"
    assert sorted((m["material_id"], m["version"], m["national"]) for m in created["materials"]) == [
        ("m-ca", 3, False),
        ("m-national", 3, True),
    ]

    [event] = outbox_events(scheduling_ctx, "scheduling.session.scheduled")
    assert event.subject == created["id"]
    assert event.correlationid
    assert sorted(event.data["registrant_ids"]) == ["pat-1", "pat-2"]
    assert event.data["place"]["room"] == "Room A"
    # Read back, by id and in the jurisdiction's list, it is presented as it was when created.
    shown = sclient.get(f"/sessions/{created['id']}", headers=auth(tokens, CA_ADMIN))
    assert shown.status_code == 200, shown.get_data(as_text=True)
    listed = sclient.get("/sessions", headers=auth(tokens, CA_ADMIN))
    assert listed.status_code == 200, listed.get_data(as_text=True)
    [item] = [s for s in listed.json["items"] if s["id"] == created["id"]]
    for read in (shown.json, item):
        assert read["place"] == created["place"]
        assert read["materials"] == created["materials"]
        assert read["local_start"] == created["local_start"] and read["zone_abbreviation"] == "PDT"
    assert event.data["sequence"] == 0
    with scheduling_ctx.db.session() as db:
        resources = sorted(db.scalars(select(Booking.resource).where(Booking.owner_id == created["id"])))
    assert resources == sorted(["person:fac-ca", "person:fac-ca-2", f"room:{room.id}", "person:spec-ca"])

    # Facilitators and participants of the jurisdiction read it; the list pages in time order.
    for who in (CA_FACILITATOR, CA_PARTICIPANT):
        assert sclient.get(f"/sessions/{created['id']}", headers=auth(tokens, who)).status_code == 200
    second = scheduled(
        sclient,
        tokens,
        cohort.id,
        room_id=room.id,
        module_id="module-1",
        starts_at="2031-03-04T09:00:00-08:00",
        ends_at="2031-03-04T12:00:00-08:00",
    )
    listed = sclient.get(f"/cohorts/{cohort.id}/sessions?limit=1", headers=auth(tokens, CA_FACILITATOR))
    assert [s["id"] for s in listed.json["items"]] == [second["id"]]
    assert listed.json["next_cursor"] and 'rel="next"' in listed.headers["Link"]
    rest = sclient.get(
        f"/cohorts/{cohort.id}/sessions",
        query_string={"cursor": listed.json["next_cursor"]},
        headers=auth(tokens, CA_FACILITATOR),
    ).json
    assert [s["id"] for s in rest["items"]] == [created["id"]]
    assert len(rest["items"][0]["materials"]) == 2


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_reschedule_bumps_the_sequence_and_tells_registrants(sclient, tokens, scheduling_ctx, database):
    cohort = arrange(scheduling_ctx, lambda db: factories.cohort(db, tenant="CA", sessions=0))
    arrange(scheduling_ctx, lambda db: factories.registration(db, db.get(Cohort, cohort.id), "pat-1"))
    created = scheduled(sclient, tokens, cohort.id)

    no_reason = {"starts_at": "2031-03-05T09:00:00-08:00", "ends_at": "2031-03-05T11:00:00-08:00"}
    assert_problem(
        sclient.post(f"/sessions/{created['id']}/reschedule", json=no_reason, headers=auth(tokens, CA_ADMIN)),
        422,
        "reason",
    )
    moved = sclient.post(
        f"/sessions/{created['id']}/reschedule",
        headers=auth(tokens, CA_ADMIN),
        json={
            "starts_at": "2031-03-05T09:00:00-08:00",
            "ends_at": "2031-03-05T11:00:00-08:00",
            "reason": "The facilitator is at a conference.",
        },
    )
    assert moved.status_code == 200, moved.json
    assert moved.json["local_start"] == "2031-03-05T09:00:00-08:00"
    assert moved.json["sequence"] == 1
    [event] = outbox_events(scheduling_ctx, "scheduling.session.rescheduled")
    assert event.data["previous_starts_at"] == datetime(2031, 3, 4, 17, 0, tzinfo=UTC)
    assert event.data["starts_at"] == datetime(2031, 3, 5, 17, 0, tzinfo=UTC)
    assert event.data["reason"] == "The facilitator is at a conference."
    assert event.data["sequence"] == 1
    assert event.data["registrant_ids"] == ["pat-1"]
    with scheduling_ctx.db.session() as db:
        [booking] = db.scalars(select(Booking).where(Booking.owner_id == created["id"])).all()
        assert booking.starts_at == datetime(2031, 3, 5, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_cancel_releases_the_bookings_and_is_final(sclient, tokens, scheduling_ctx, database):
    cohort = arrange(scheduling_ctx, lambda db: factories.cohort(db, tenant="CA", sessions=0))
    created = scheduled(sclient, tokens, cohort.id)
    assert_problem(
        sclient.post(f"/sessions/{created['id']}/cancel", json={}, headers=auth(tokens, CA_ADMIN)), 422, "reason"
    )
    cancelled = sclient.post(
        f"/sessions/{created['id']}/cancel",
        json={"reason": "Wildfire smoke; venue closed."},
        headers=auth(tokens, CA_ADMIN),
    )
    assert cancelled.status_code == 200, cancelled.json
    assert (cancelled.json["status"], cancelled.json["sequence"]) == ("cancelled", 1)
    assert cancelled.json["cancel_reason"] == "Wildfire smoke; venue closed."
    [event] = outbox_events(scheduling_ctx, "scheduling.session.cancelled")
    assert (event.data["reason"], event.data["sequence"]) == ("Wildfire smoke; venue closed.", 1)
    with scheduling_ctx.db.session() as db:
        assert db.scalar(select(func.count()).select_from(Booking).where(Booking.owner_id == created["id"])) == 0

    before = counts(scheduling_ctx)
    assert_problem(
        sclient.post(f"/sessions/{created['id']}/cancel", json={"reason": "Again"}, headers=auth(tokens, CA_ADMIN)),
        409,
        "status",
    )
    assert_problem(
        sclient.post(
            f"/sessions/{created['id']}/reschedule",
            headers=auth(tokens, CA_ADMIN),
            json={
                "starts_at": "2031-03-05T09:00:00-08:00",
                "ends_at": "2031-03-05T11:00:00-08:00",
                "reason": "Back on",
            },
        ),
        409,
        "status",
    )
    assert counts(scheduling_ctx) == before
    assert (
        sclient.get(f"/cohorts/{cohort.id}/sessions?status=cancelled", headers=auth(tokens, CA_ADMIN)).json["items"][0][
            "id"
        ]
        == created["id"]
    )


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_another_jurisdictions_cohorts_and_sessions_are_not_found_and_not_written(
    sclient, tokens, scheduling_ctx, database
):
    cohort = arrange(scheduling_ctx, lambda db: factories.cohort(db, tenant="CA", sessions=0))
    created = scheduled(sclient, tokens, cohort.id)
    before = counts(scheduling_ctx)
    tx = auth(tokens, TX_ADMIN)
    assert_problem(sclient.get(f"/sessions/{created['id']}", headers=tx), 404)
    assert_problem(sclient.get(f"/cohorts/{cohort.id}/sessions", headers=tx), 404)
    assert_problem(
        schedule(
            sclient, tokens, cohort.id, TX_ADMIN, starts_at="2031-05-01T09:00:00Z", ends_at="2031-05-01T10:00:00Z"
        ),
        404,
    )
    assert_problem(
        sclient.post(
            f"/sessions/{created['id']}/reschedule",
            headers=tx,
            json={"starts_at": "2031-05-01T09:00:00Z", "ends_at": "2031-05-01T10:00:00Z", "reason": "Ours now"},
        ),
        404,
    )
    assert_problem(sclient.post(f"/sessions/{created['id']}/cancel", json={"reason": "Ours now"}, headers=tx), 404)
    # Readers of the jurisdiction may read, not write.
    assert_problem(
        sclient.post(f"/sessions/{created['id']}/cancel", json={"reason": "No"}, headers=auth(tokens, CA_FACILITATOR)),
        403,
    )
    assert_problem(schedule(sclient, tokens, cohort.id, CA_OTHER_COORDINATOR), 403)
    assert counts(scheduling_ctx) == before
    shown = sclient.get(f"/sessions/{created['id']}", headers=auth(tokens, CA_ADMIN)).json
    assert (shown["status"], shown["sequence"], shown["starts_at"]) == ("scheduled", 0, created["starts_at"])


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_bad_sessions_are_refused_with_the_field_and_write_nothing(sclient, tokens, scheduling_ctx, database):
    def build(db):
        agency = factories.agency(db, "CA")
        return (
            factories.cohort(db, tenant="CA", format="virtual", agency_row=agency, sessions=0),
            factories.cohort(db, tenant="CA", format="in_person", agency_row=agency, sessions=0),
            factories.room(db, factories.agency(db, "TX")),
        )

    virtual, in_person, tx_room = arrange(scheduling_ctx, build)
    before = counts(scheduling_ctx)
    cases = [
        (virtual.id, {"starts_at": "2031-03-04T09:00:00"}, "starts_at"),  # naive
        (virtual.id, {"ends_at": "2031-03-04T08:00:00-08:00"}, "ends_at"),  # before it starts
        (virtual.id, {"ends_at": "2031-03-04T09:00:00-08:00"}, "ends_at"),  # empty
        (virtual.id, {"ends_at": "2031-03-05T09:00:00-08:00"}, "ends_at"),  # a day long
        (virtual.id, {"starts_at": "next tuesday"}, "starts_at"),
        (virtual.id, {"meeting_url": None}, "meeting_url"),
        (virtual.id, {"meeting_url": "not a url"}, "meeting_url"),
        (virtual.id, {"meeting_url": "javascript:alert(1)"}, "meeting_url"),
        (in_person.id, {"meeting_url": None}, "room_id"),
        (in_person.id, {"meeting_url": None, "room_id": tx_room.id}, "room_id"),  # another jurisdiction's room
        (virtual.id, {"module_id": ""}, "module_id"),
        (virtual.id, {"time_zone": "Pacific/Guam"}, "time_zone"),  # the cohort's, not the session's
        (virtual.id, {"sequence": 4}, "sequence"),
        (virtual.id, {"facilitators": "fac-ca"}, "facilitators"),
    ]
    for cohort_id, overrides, field in cases:
        assert_problem(schedule(sclient, tokens, cohort_id, **overrides), 422, field)
    headers = {**auth(tokens, CA_ADMIN), "Content-Type": "application/json"}
    malformed = sclient.post(f"/cohorts/{virtual.id}/sessions", data="{'title': 1}", headers=headers)
    assert_problem(malformed, 400)
    assert malformed.json["title"] == "Malformed JSON"
    assert_problem(
        sclient.post(
            f"/cohorts/{virtual.id}/sessions",
            data="title=x",
            headers={**auth(tokens, CA_ADMIN), "Content-Type": "text/plain"},
        ),
        415,
    )
    assert_problem(schedule(sclient, tokens, "no-such-cohort"), 404)
    assert counts(scheduling_ctx) == before


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_retried_schedule_with_its_idempotency_key_creates_one_session(sclient, tokens, scheduling_ctx, database):
    cohort = arrange(scheduling_ctx, lambda db: factories.cohort(db, tenant="CA", sessions=0))
    headers = auth(tokens, CA_ADMIN, **{"Idempotency-Key": "session-1"})
    first = sclient.post(f"/cohorts/{cohort.id}/sessions", json=session_body(), headers=headers)
    again = sclient.post(f"/cohorts/{cohort.id}/sessions", json=session_body(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json["id"] == again.json["id"]
    assert counts(scheduling_ctx)["TrainingSession"] == 1
