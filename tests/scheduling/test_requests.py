"""Training requests over HTTP: submit, approve into a cohort, decline with a reason, tenancy, jurisdictions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.scheduling.models import (
    Cohort,
    Jurisdiction,
    RequestStatusChange,
    TrainingRequest,
    platform,
)
from shared.envelope import parse_event
from tests.helpers import arrange, assert_problem, auth
from tests.scheduling import factories

BACKENDS = ["sqlite", "postgres"]

CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
CA_COORDINATOR = ("agency_coordinator", "CA", "coord-ca")
CA_FACILITATOR = ("facilitator", "CA", "fac-ca")
TX_ADMIN = ("jurisdiction_admin", "TX", "admin-tx")
NATIONAL = ("national_admin", "US", "admin-us")


def counts(ctx) -> dict:
    with ctx.db.session() as db:
        return {
            model.__name__: db.scalar(select(func.count()).select_from(model))
            for model in (TrainingRequest, RequestStatusChange, Cohort, platform.outbox)
        }


def outbox_events(ctx, event_type: str) -> list:
    with ctx.db.session() as db:
        rows = db.scalars(
            select(platform.outbox).where(platform.outbox.event_type == event_type).order_by(platform.outbox.id)
        ).all()
        return [parse_event(row.body) for row in rows]


def request_body(agency_id: str | None = None, **overrides) -> dict:
    body = {
        "series_id": factories.SERIES_ID,
        "format": "hybrid",
        "expected_participants": 24,
        "preferred_windows": [
            {"starts_on": "2031-01-12", "ends_on": "2031-03-30"},
            {"starts_on": "2031-09-01", "ends_on": "2031-11-15"},
        ],
        "host_agency_id": agency_id,
        "notes": "Evenings work best for family child care providers.",
    }
    body.update(overrides)
    return body


def submit(client, tokens, agency_id=None, who=CA_ADMIN, **overrides) -> dict:
    response = client.post("/requests", json=request_body(agency_id, **overrides), headers=auth(tokens, who))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


@pytest.fixture
def ca_agency(scheduling_ctx):
    return arrange(scheduling_ctx, lambda db: factories.agency(db, "CA", coordinators=("coord-ca",)))


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_request_approved_becomes_a_cohort_with_its_settings_and_events(
    sclient, tokens, scheduling_ctx, database, ca_agency
):
    created = submit(sclient, tokens, ca_agency.id)
    assert created["status"] == "submitted"
    assert created["tenant"] == "CA"
    assert created["requested_by"] == "admin-ca"
    assert created["cohort_id"] is None
    assert created["preferred_windows"][0] == {"starts_on": "2031-01-12", "ends_on": "2031-03-30"}
    assert [h["status"] for h in created["history"]] == ["submitted"]
    [submitted] = outbox_events(scheduling_ctx, "scheduling.request.submitted")
    assert (submitted.subject, submitted.tenant) == (created["id"], "CA")
    assert submitted.data["expected_participants"] == 24
    assert submitted.data["host_agency_id"] == ca_agency.id

    approved = sclient.post(
        f"/requests/{created['id']}/approve",
        headers=auth(tokens, NATIONAL),
        json={
            "title": "Bay Area spring cohort",
            "facilitators": ["fac-ca", "fac-ca-2"],
            "requires_approval": True,
            "registration_opens_at": "2030-11-01T08:00:00-07:00",
            "registration_closes_at": "2031-01-05T17:00:00-08:00",
        },
    )
    assert approved.status_code == 200, approved.json
    body = approved.json
    assert body["status"] == "approved"
    assert body["decided_by"] == "admin-us"
    assert body["cohort_id"]
    assert [h["status"] for h in body["history"]] == ["submitted", "approved"]
    assert body["history"][1]["by"] == "admin-us"

    cohort = sclient.get(f"/cohorts/{body['cohort_id']}", headers=auth(tokens, CA_ADMIN))
    assert cohort.status_code == 200, cohort.json
    cohort = cohort.json
    assert cohort["tenant"] == "CA"
    assert cohort["request_id"] == created["id"]
    assert cohort["series_id"] == factories.SERIES_ID
    assert cohort["host_agency_id"] == ca_agency.id
    assert cohort["format"] == "hybrid"
    assert cohort["title"] == "Bay Area spring cohort"
    assert cohort["time_zone"] == "America/Los_Angeles"  # California's default
    assert cohort["capacity"] == 24  # the expected participants
    assert cohort["facilitators"] == ["fac-ca", "fac-ca-2"]
    assert cohort["requires_approval"] is True
    assert cohort["registration_opens_at"].startswith("2030-11-01T15:00:00")
    assert cohort["status"] == "open"

    [event] = outbox_events(scheduling_ctx, "scheduling.request.approved")
    assert event.subject == created["id"]
    assert event.tenant == "CA"
    assert event.data == {
        "request_id": created["id"],
        "cohort_id": body["cohort_id"],
        "decided_by": "admin-us",
        "requested_by": created["requested_by"],
    }

    shown = sclient.get(f"/requests/{created['id']}", headers=auth(tokens, CA_ADMIN)).json
    assert shown["cohort_id"] == body["cohort_id"]
    assert [h["status"] for h in shown["history"]] == ["submitted", "approved"]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_approval_settings_override_the_defaults(sclient, tokens, scheduling_ctx, database):
    created = submit(sclient, tokens, who=("jurisdiction_admin", "GU", "admin-gu"), format="in_person")
    approved = sclient.post(
        f"/requests/{created['id']}/approve",
        headers=auth(tokens, NATIONAL),
        json={"title": "Guam cohort", "capacity": 12, "time_zone": "Pacific/Guam", "completion_minimum": 8},
    )
    assert approved.status_code == 200, approved.json
    with scheduling_ctx.db.session() as db:
        cohort = db.get(Cohort, approved.json["cohort_id"])
        assert (cohort.tenant, cohort.capacity, cohort.time_zone, cohort.completion_minimum, cohort.format) == (
            "GU",
            12,
            "Pacific/Guam",
            8,
            "in_person",
        )


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_decline_needs_a_reason(sclient, tokens, scheduling_ctx, database):
    created = submit(sclient, tokens)
    before = counts(scheduling_ctx)
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = sclient.post(f"/requests/{created['id']}/decline", json=body, headers=auth(tokens, NATIONAL))
        assert_problem(response, 422, "reason")
    assert counts(scheduling_ctx) == before

    declined = sclient.post(
        f"/requests/{created['id']}/decline",
        headers=auth(tokens, NATIONAL),
        json={"reason": "The spring round is full; please request the autumn round."},
    )
    assert declined.status_code == 200, declined.json
    assert declined.json["status"] == "declined"
    assert declined.json["decision_reason"] == "The spring round is full; please request the autumn round."
    assert declined.json["cohort_id"] is None
    assert [(h["status"], h["reason"]) for h in declined.json["history"]] == [
        ("submitted", None),
        ("declined", "The spring round is full; please request the autumn round."),
    ]
    [event] = outbox_events(scheduling_ctx, "scheduling.request.declined")
    assert event.data["reason"].startswith("The spring round is full")
    assert counts(scheduling_ctx)["Cohort"] == 0


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_decided_request_cannot_be_decided_again(sclient, tokens, scheduling_ctx, database):
    approved = submit(sclient, tokens)
    assert (
        sclient.post(
            f"/requests/{approved['id']}/approve", json={"title": "Cohort"}, headers=auth(tokens, NATIONAL)
        ).status_code
        == 200
    )
    declined = submit(sclient, tokens)
    assert (
        sclient.post(
            f"/requests/{declined['id']}/decline", json={"reason": "Duplicate request."}, headers=auth(tokens, NATIONAL)
        ).status_code
        == 200
    )
    before = counts(scheduling_ctx)

    for request_id in (approved["id"], declined["id"]):
        again = sclient.post(
            f"/requests/{request_id}/approve", json={"title": "Second cohort"}, headers=auth(tokens, NATIONAL)
        )
        assert_problem(again, 409, "status")
        refused = sclient.post(
            f"/requests/{request_id}/decline", json={"reason": "Changed our minds."}, headers=auth(tokens, NATIONAL)
        )
        assert_problem(refused, 409, "status")
    assert counts(scheduling_ctx) == before
    assert len(outbox_events(scheduling_ctx, "scheduling.request.approved")) == 1


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_requests_of_another_jurisdiction_are_not_found(sclient, tokens, scheduling_ctx, database, ca_agency):
    created = submit(sclient, tokens, ca_agency.id)
    assert_problem(sclient.get(f"/requests/{created['id']}", headers=auth(tokens, TX_ADMIN)), 404)
    assert sclient.get("/requests", headers=auth(tokens, TX_ADMIN)).json["items"] == []

    # Naming another jurisdiction's agency is refused as if it did not exist, and writes nothing.
    before = counts(scheduling_ctx)
    response = sclient.post("/requests", json=request_body(ca_agency.id), headers=auth(tokens, TX_ADMIN))
    assert_problem(response, 422, "host_agency_id")
    assert counts(scheduling_ctx) == before

    # Only national admins decide; a jurisdiction admin's role is refused before anything is read.
    assert_problem(
        sclient.post(f"/requests/{created['id']}/approve", json={"title": "Mine now"}, headers=auth(tokens, CA_ADMIN)),
        403,
    )
    assert_problem(sclient.get("/requests", headers=auth(tokens, CA_FACILITATOR)), 403)
    assert counts(scheduling_ctx) == before


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_national_admins_list_every_jurisdiction_filtered(sclient, tokens, scheduling_ctx, database):
    ca = submit(sclient, tokens)
    tx = submit(sclient, tokens, who=TX_ADMIN)
    sclient.post(f"/requests/{tx['id']}/decline", json={"reason": "No funding."}, headers=auth(tokens, NATIONAL))

    every = sclient.get("/requests", headers=auth(tokens, NATIONAL)).json["items"]
    assert {r["id"] for r in every} == {ca["id"], tx["id"]}
    submitted = sclient.get("/requests?status=submitted", headers=auth(tokens, NATIONAL)).json["items"]
    assert [r["id"] for r in submitted] == [ca["id"]]
    texas = sclient.get("/requests?tenant=TX", headers=auth(tokens, NATIONAL)).json["items"]
    assert [r["id"] for r in texas] == [tx["id"]]
    assert texas[0]["history"][-1]["reason"] == "No funding."
    mine = sclient.get("/requests", headers=auth(tokens, CA_ADMIN)).json["items"]
    assert [r["id"] for r in mine] == [ca["id"]]
    assert_problem(sclient.get("/requests?status=maybe", headers=auth(tokens, NATIONAL)), 422, "status")


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_agency_coordinators_request_for_their_own_agency(sclient, tokens, scheduling_ctx, database, ca_agency):
    other = arrange(
        scheduling_ctx,
        lambda db: factories.agency(db, "CA", coordinators=("coord-other",), name="Sacramento Resource Center"),
    )
    created = submit(sclient, tokens, ca_agency.id, who=CA_COORDINATOR)
    assert created["requested_by"] == "coord-ca"
    assert_problem(sclient.post("/requests", json=request_body(other.id), headers=auth(tokens, CA_COORDINATOR)), 403)
    assert_problem(
        sclient.post("/requests", json=request_body(None), headers=auth(tokens, CA_COORDINATOR)), 422, "host_agency_id"
    )


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_bad_requests_are_refused_with_the_field_and_write_nothing(sclient, tokens, scheduling_ctx, database):
    headers = auth(tokens, CA_ADMIN)
    before = counts(scheduling_ctx)
    cases = [
        (request_body(preferred_windows=[{"starts_on": "2031-03-01", "ends_on": "2031-02-01"}]), "preferred_windows"),
        (request_body(expected_participants=0), "expected_participants"),
        (request_body(expected_participants="many"), "expected_participants"),
        (request_body(format="carrier_pigeon"), "format"),
        (request_body(series_id=""), "series_id"),
        (request_body(status="approved"), "status"),  # server-owned
        (request_body(tenant="TX"), "tenant"),  # the tenant comes from the token only
        (request_body(colour="blue"), "colour"),
        ({"format": "virtual"}, "series_id"),
    ]
    for body, field in cases:
        assert_problem(sclient.post("/requests", json=body, headers=headers), 422, field)
    malformed = sclient.post(
        "/requests", data='{"series_id": ', headers={**headers, "Content-Type": "application/json"}
    )
    assert_problem(malformed, 400)
    assert malformed.json["title"] == "Malformed JSON"
    assert_problem(
        sclient.post(
            "/requests", data="series_id=x", headers={**headers, "Content-Type": "application/x-www-form-urlencoded"}
        ),
        415,
    )
    created = submit(sclient, tokens)
    assert_problem(
        sclient.post(
            f"/requests/{created['id']}/approve",
            json={"title": "T", "time_zone": "Mars/Olympus"},
            headers=auth(tokens, NATIONAL),
        ),
        422,
        "time_zone",
    )
    assert_problem(
        sclient.post(
            f"/requests/{created['id']}/approve", json={"title": "T", "capacity": 0}, headers=auth(tokens, NATIONAL)
        ),
        422,
        "capacity",
    )
    assert_problem(
        sclient.post(
            f"/requests/{created['id']}/approve", json={"time_zone": "Pacific/Guam"}, headers=auth(tokens, NATIONAL)
        ),
        422,
        "title",
    )
    after = counts(scheduling_ctx)
    assert after["TrainingRequest"] == before["TrainingRequest"] + 1
    assert after["Cohort"] == 0
    assert_problem(sclient.post("/requests", json=request_body(), headers=auth(tokens, CA_FACILITATOR)), 403)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_retried_submission_with_its_idempotency_key_creates_one_request(sclient, tokens, scheduling_ctx, database):
    headers = auth(tokens, CA_ADMIN, **{"Idempotency-Key": "req-2031-spring"})
    first = sclient.post("/requests", json=request_body(), headers=headers)
    second = sclient.post("/requests", json=request_body(), headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json["id"] == second.json["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert counts(scheduling_ctx)["TrainingRequest"] == 1
    assert len(outbox_events(scheduling_ctx, "scheduling.request.submitted")) == 1


# --- jurisdictions ------------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_jurisdictions_are_listed_and_national_admins_add_tribes(sclient, tokens, scheduling_ctx, database):
    listed = sclient.get("/jurisdictions?limit=200", headers=auth(tokens, CA_FACILITATOR))
    assert listed.status_code == 200
    by_code = {j["code"]: j for j in listed.json["items"]}
    assert len(by_code) == 56
    assert by_code["GU"] == {"code": "GU", "name": "Guam", "kind": "territory", "default_time_zone": "Pacific/Guam"}

    tribe = {"code": "NAVAJO", "name": "Navajo Nation", "kind": "tribe", "default_time_zone": "America/Denver"}
    assert_problem(sclient.post("/jurisdictions", json=tribe, headers=auth(tokens, CA_ADMIN)), 403)
    assert_problem(
        sclient.post(
            "/jurisdictions", json={**tribe, "default_time_zone": "America/Navajo_Time"}, headers=auth(tokens, NATIONAL)
        ),
        422,
        "default_time_zone",
    )
    assert_problem(
        sclient.post("/jurisdictions", json={**tribe, "kind": "state"}, headers=auth(tokens, NATIONAL)), 422, "kind"
    )
    assert_problem(
        sclient.post("/jurisdictions", json={**tribe, "code": "navajo nation"}, headers=auth(tokens, NATIONAL)),
        422,
        "code",
    )
    created = sclient.post("/jurisdictions", json=tribe, headers=auth(tokens, NATIONAL))
    assert created.status_code == 201, created.json
    assert created.json == tribe
    assert_problem(sclient.post("/jurisdictions", json=tribe, headers=auth(tokens, NATIONAL)), 409, "code")
    assert (
        sclient.get("/jurisdictions/NAVAJO", headers=auth(tokens, CA_ADMIN)).json["default_time_zone"]
        == "America/Denver"
    )
    assert_problem(sclient.get("/jurisdictions/ATLANTIS", headers=auth(tokens, CA_ADMIN)), 404)
    with scheduling_ctx.db.session() as db:
        assert db.scalar(select(func.count()).select_from(Jurisdiction)) == 57

    # The Tribe's admins request training; its cohort defaults to the Tribe's own zone.
    request = submit(sclient, tokens, who=("jurisdiction_admin", "NAVAJO", "admin-navajo"))
    approved = sclient.post(
        f"/requests/{request['id']}/approve", json={"title": "Navajo Nation cohort"}, headers=auth(tokens, NATIONAL)
    )
    cohort = sclient.get(
        f"/cohorts/{approved.json['cohort_id']}", headers=auth(tokens, ("facilitator", "NAVAJO", "fac-nn"))
    ).json
    assert cohort["time_zone"] == "America/Denver"


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_nul_characters_are_bad_input_not_a_server_error(sclient, tokens, scheduling_ctx, database):
    # PostgreSQL text cannot hold NUL: refused before any query, wherever it appears.
    headers = auth(tokens, CA_ADMIN)
    assert_problem(sclient.post("/requests", json=request_body(series_id="a\x00b"), headers=headers), 422, "series_id")
    assert_problem(
        sclient.post(
            "/requests", json=request_body(preferred_windows=[{"starts_on": "2031-01-01\x00"}]), headers=headers
        ),
        422,
        "preferred_windows",
    )
    assert_problem(sclient.get("/requests?tenant=C%00A", headers=auth(tokens, NATIONAL)), 422, "tenant")
    for path in ("/requests/a%00b", "/cohorts/a%00b", "/sessions/a%00b", "/agencies/a%00b", "/jurisdictions/C%00A"):
        assert_problem(sclient.get(path, headers=headers), 404)
    assert counts(scheduling_ctx)["TrainingRequest"] == 0
