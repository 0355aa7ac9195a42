"""Scheduling's input rules: text fields, a cohort's capacity, and feeds that no stored text can break."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import icalendar
import pytest
import vobject
from sqlalchemy import func, select

from services.scheduling.models import Cohort, Registration, Room, TrainingSession
from tests.helpers import arrange, assert_problem, auth
from tests.scheduling import factories

BACKENDS = ["sqlite", "postgres"]
CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
CA_COORDINATOR = ("agency_coordinator", "CA", "coord-ca")
CA_PARTICIPANT = ("participant", "CA", "pat-ca")


def cohort_body(**overrides) -> dict:
    return {
        "series_id": factories.SERIES_ID,
        "title": "Relationship-Based Care, spring",
        "format": "virtual",
        "capacity": 20,
        "facilitators": ["fac-ca"],
        **overrides,
    }


def count(ctx, model) -> int:
    with ctx.db.session() as db:
        return db.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_text_fields_refuse_blank_control_bidi_and_surrogate_text_and_trim_the_rest(
    sclient, tokens, scheduling_ctx, database
):
    admin = auth(tokens, CA_ADMIN)
    refused = {
        "   ": "blank",
        "\u200b \u200b": "blank",
        "Spring\ncohort": "single line",
        "Spring\x07cohort": "control",
        "Spring\x85cohort": "control",
        "Spring \u202eevil": "bidirectional",
        "Spring \u2066cohort\u2069": "bidirectional",
        "Spring \ud800 cohort": "surrogate",
    }
    before = count(scheduling_ctx, Cohort)
    for title, why in refused.items():
        body = assert_problem(sclient.post("/cohorts", json=cohort_body(title=title), headers=admin), 422, "title")
        assert why in json.dumps(body["errors"]).lower() or why == "surrogate", (title, body)
    # The reasons of a cancellation are multi-line: line breaks and tabs pass, other controls do not.
    assert count(scheduling_ctx, Cohort) == before

    created = sclient.post(
        "/cohorts", json=cohort_body(title="  Spring cohort\n", facilitators=[" fac-ca "]), headers=admin
    )
    assert created.status_code == 201, created.json
    assert created.json["title"] == "Spring cohort" and created.json["facilitators"] == ["fac-ca"]

    cancel_url = f"/cohorts/{created.json['id']}/cancel"
    assert_problem(sclient.post(cancel_url, json={"reason": " \n\t "}, headers=admin), 422, "reason")
    assert_problem(sclient.post(cancel_url, json={"reason": "Venue\x1bclosed"}, headers=admin), 422, "reason")
    cancelled = sclient.post(cancel_url, json={"reason": "Venue closed.\r\n\tSee the e-mail.\r\n"}, headers=admin)
    assert cancelled.status_code == 200, cancelled.json
    with scheduling_ctx.db.session() as db:
        reasons = set(
            db.scalars(select(TrainingSession.cancel_reason).where(TrainingSession.cohort_id == created.json["id"]))
        )
    assert reasons <= {"Venue closed.\n\tSee the e-mail.", None}


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_registration_refuses_a_blank_or_disguised_name(sclient, tokens, scheduling_ctx, database):
    cohort_id = arrange(scheduling_ctx, lambda db: factories.cohort(db, sessions=1).id)
    url = f"/cohorts/{cohort_id}/registrations"
    who = auth(tokens, CA_PARTICIPANT)
    for name in ("  ", "Ana\u202e", "Ana\x00", "Ana\x1f", "Ana\r\nSmith"):
        assert_problem(sclient.post(url, json={"name": name, "email": "ana@example.org"}, headers=who), 422, "name")
    assert count(scheduling_ctx, Registration) == 0
    made = sclient.post(url, json={"name": " Ana Smith ", "email": "ana@example.org"}, headers=who)
    assert made.status_code == 201 and made.json["name"] == "Ana Smith"


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_capacity_is_a_whole_number_within_a_cohorts_bounds(sclient, tokens, scheduling_ctx, database):
    cohort_id = arrange(scheduling_ctx, lambda db: factories.cohort(db, sessions=1, capacity=2).id)
    url = f"/cohorts/{cohort_id}/capacity"
    coordinator = {**auth(tokens, CA_COORDINATOR), "Content-Type": "application/json"}
    for raw in (
        '{"capacity": 5.5}',
        '{"capacity": "5"}',
        '{"capacity": 1e2}',
        '{"capacity": 5.0}',
        '{"capacity": true}',
        '{"capacity": 10001}',
        '{"capacity": 100000}',
        '{"capacity": 0}',
    ):
        assert_problem(sclient.put(url, data=raw, headers=coordinator), 422, "capacity")
    with scheduling_ctx.db.session() as db:
        assert db.get(Cohort, cohort_id).capacity == 2
    changed = sclient.put(url, data='{"capacity": 5}', headers=coordinator)
    assert changed.status_code == 200 and changed.json["capacity"] == 5
    # The same bounds as a cohort's own capacity, written once.
    assert_problem(
        sclient.post("/cohorts", json=cohort_body(capacity=10_001), headers=auth(tokens, CA_ADMIN)), 422, "capacity"
    )


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_no_stored_text_breaks_a_cohort_feed(sclient, tokens, scheduling_ctx, database):
    """Text stored before the input rules (or by any other path) still makes a valid feed (RFC 5545)."""
    title = "Spring\r\ncohort\x0b;, \\ \u202eevil\u202c\x85"

    def build(db):
        agency = factories.agency(db)
        room = factories.room(db, agency, name="Room\nA\x07")
        cohort = factories.cohort(db, agency_row=agency, room_row=room, format="hybrid", sessions=2)
        cohort.title = title
        first, second = db.scalars(
            select(TrainingSession).where(TrainingSession.cohort_id == cohort.id).order_by(TrainingSession.starts_at)
        ).all()
        first.title = "Welcome\rand\u2028care"
        second.status, second.cancel_reason = "cancelled", "Snow.\r\nNew date\x1b soon.\r"
        db.get(Room, room.id).venue.address = "100 Main St\r\nOakland"
        return cohort.id

    cohort_id = arrange(scheduling_ctx, build)
    made = sclient.post(
        "/calendar-feeds", json={"kind": "cohort", "subject": cohort_id}, headers=auth(tokens, CA_COORDINATOR)
    )
    assert made.status_code == 201, made.json
    response = sclient.get(urlsplit(made.json["url"]).path)
    assert response.status_code == 200, response.get_data(as_text=True)
    feed = response.get_data(as_text=True)

    # Every content line ends with CRLF and holds no other control character (RFC 5545 3.1, 3.3.11).
    for line in feed.split("\r\n"):
        assert not any(ord(c) < 32 and c != "\t" or 0x7F <= ord(c) <= 0x9F for c in line), repr(line)
    for reader in (lambda text: vobject.readOne(text), lambda text: icalendar.Calendar.from_ical(text)):
        reader(feed)
    calendar = vobject.readOne(feed)
    assert calendar.contents["x-wr-calname"][0].value == "Spring cohort;, \\ evil"
    summaries = sorted(event.summary.value for event in calendar.vevent_list)
    assert summaries == ["Spring cohort;, \\ evil: Session 2", "Spring cohort;, \\ evil: Welcome and care"]
    cancelled = next(e for e in calendar.vevent_list if e.status.value == "CANCELLED")
    assert cancelled.description.value.startswith("Cancelled: Snow.\nNew date soon.")
    assert cancelled.location.value.startswith("Room A, Community Center, 100 Main St Oakland")
    parsed = icalendar.Calendar.from_ical(feed)
    assert {str(e["summary"]) for e in parsed.walk("VEVENT")} == set(summaries)


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted_as_text():
    from shared.spreadsheet import cell as _cell

    for value in ("=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert _cell(value) == "'" + value
    assert _cell("Ana-Lopez") == "Ana-Lopez" and _cell(-1.5) == "-1.5"
