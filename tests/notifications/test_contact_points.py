"""Contact points, preferences and the delivery log over REST: tenancy, who may act, bad input, lossless sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.domain.kinds import TEMPLATES
from services.notifications.handlers import build_batch_handlers
from shared.envelope import parse_event
from tests.notifications.conftest import add_contact, next_week, registration_event, session_data, session_event

ADMIN_CA = ("jurisdiction_admin", "CA")
ADMIN_NY = ("jurisdiction_admin", "NY")


def test_a_state_system_keeps_contact_points_and_syncs_them_losslessly(nclient, tokens):
    headers = tokens.headers("integration", "CA")
    body = {"email": "ana@example.org", "time_zone": "America/Los_Angeles", "language": "es"}
    put = nclient.put("/contact-points/ana", json=body, headers=headers)
    assert put.status_code == 200, put.json
    assert put.json["person"] == "ana" and put.json["language"] == "es" and put.json["tenant"] == "CA"
    nclient.put("/contact-points/ben", json={"email": "ben@example.org"}, headers=headers)

    first = nclient.get("/contact-points?changed_after=0", headers=headers).json
    assert [c["person"] for c in first["items"]] == ["ana", "ben"]
    nclient.put("/contact-points/ana", json={**body, "language": "en"}, headers=headers)
    later = nclient.get(f"/contact-points?changed_after={first['last_change']}", headers=headers).json
    assert [(c["person"], c["language"]) for c in later["items"]] == [("ana", "en")]


BOTH = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)


@BOTH
def test_registrations_give_a_contact_point_the_persons_name_and_keep_it_current(
    nclient, tokens, notifications_ctx, deliver, database
):
    headers = tokens.headers("jurisdiction_admin", "CA")

    def named(person: str):
        return nclient.get(f"/contact-points/{person}", headers=headers).json["name"]

    # One event at a time, as a consumer handles a lone one.
    deliver.event(registration_event("confirmed", "ana", "ana@example.org", participant_name="Ana López"))
    assert named("ana") == "Ana López"
    marker = nclient.get("/contact-points?changed_after=0", headers=headers).json["last_change"]
    deliver.event(registration_event("cancelled", "ana", "ana@example.org", participant_name="Ana López Ruiz"))
    assert named("ana") == "Ana López Ruiz"
    # The correction reaches a state system syncing contact points.
    later = nclient.get(f"/contact-points?changed_after={marker}", headers=headers).json["items"]
    assert [(c["person"], c["name"]) for c in later] == [("ana", "Ana López Ruiz")]
    deliver.event(registration_event("confirmed", "ana", "ana@example.org"))  # an older event, with no name
    assert named("ana") == "Ana López Ruiz"

    # In a batch, as the consumer handles a burst: a new person and a renamed one.
    add_contact(notifications_ctx, "ben", "ben@example.org", name="Ben")
    events = [
        parse_event(registration_event("confirmed", "cy", "cy@example.org", participant_name="Cy Park").to_json()),
        parse_event(registration_event("confirmed", "ben", "ben@example.org", participant_name="Ben Ortiz").to_json()),
    ]
    notify_many = build_batch_handlers(notifications_ctx.extra["notifier"])["notify"]
    with notifications_ctx.db.unit_of_work() as uow:
        notify_many(events, uow)
        uow.commit()
    assert (named("cy"), named("ben")) == ("Cy Park", "Ben Ortiz")

    # A state system keeps the name with the rest of the record.
    put = nclient.put("/contact-points/dee", json={"email": "dee@example.org", "name": "Dee Nguyen"}, headers=headers)
    assert put.status_code == 200 and put.json["name"] == "Dee Nguyen"
    blank = nclient.put("/contact-points/dee", json={"email": "dee@example.org", "name": "  "}, headers=headers)
    assert blank.status_code == 422 and blank.content_type == "application/problem+json"
    assert named("dee") == "Dee Nguyen"
    # A system that keeps no names leaves it out, and the name held is kept; null forgets it.
    kept = nclient.put("/contact-points/dee", json={"email": "dee.n@example.org"}, headers=headers)
    assert kept.status_code == 200 and kept.json["name"] == "Dee Nguyen" and kept.json["email"] == "dee.n@example.org"
    forgotten = nclient.put("/contact-points/dee", json={"email": "dee.n@example.org", "name": None}, headers=headers)
    assert forgotten.status_code == 200 and forgotten.json["name"] is None


@BOTH
def test_a_person_is_reached_at_the_address_given_last_whichever_registration_an_event_is_about(
    nclient, tokens, notifications_ctx, deliver, database
):
    headers = tokens.headers("jurisdiction_admin", "CA")
    day = datetime(2026, 9, 1, 15, 0, tzinfo=UTC)

    def held(person: str) -> tuple:
        shown = nclient.get(f"/contact-points/{person}", headers=headers).json
        return shown["email"], shown["name"], shown["contact_given_at"]

    def registration(verb, person, email, name, given, cohort):
        return registration_event(
            verb,
            person,
            email,
            participant_name=name,
            contact_given_at=given.isoformat() if given else None,
            cohort_id=cohort,
            registration_id=f"reg-{person}-{cohort}",
        )

    # Ana registered for a spring cohort with her work address, then for a fall one with her home address.
    deliver.event(registration("waitlisted", "ana", "ana@centre.org", "Ana López", day, "spring"))
    deliver.event(registration("confirmed", "ana", "ana@home.org", "Ana López Ruiz", day + timedelta(days=30), "fall"))
    assert held("ana") == ("ana@home.org", "Ana López Ruiz", "2026-10-01T15:00:00+00:00")
    # The spring waitlist moves: its event carries the older address, and the newer one is kept.
    marker = nclient.get("/contact-points?changed_after=0", headers=headers).json["last_change"]
    deliver.event(registration("promoted", "ana", "ana@centre.org", "Ana López", day, "spring"))
    assert held("ana")[0] == "ana@home.org"
    assert nclient.get(f"/contact-points?changed_after={marker}", headers=headers).json["items"] == []
    # Re-registering for spring gives the address again, later than the fall one: it is kept now.
    again = day + timedelta(days=40)
    deliver.event(registration("confirmed", "ana", "ana@centre.org", "Ana López", again, "spring"))
    assert held("ana") == ("ana@centre.org", "Ana López", "2026-10-11T15:00:00+00:00")

    # A state system's correction is given when it is made: an event carrying an address given before
    # it does not undo it, nor does an event that does not say when it was given (published before).
    put = nclient.put("/contact-points/ana", json={"email": "ana.lopez@state.example.gov"}, headers=headers)
    assert put.status_code == 200 and put.json["contact_given_at"] > "2026-12-01"
    deliver.event(registration("cancelled", "ana", "ana@home.org", "Ana López Ruiz", day + timedelta(days=30), "fall"))
    deliver.event(registration("confirmed", "ana", "ana@home.org", None, None, "winter"))
    assert held("ana")[0] == "ana.lopez@state.example.gov"
    # What nobody dated (kept before, or an event with no time) still takes an event's address, as before.
    add_contact(notifications_ctx, "ben", "ben@old.example.org")
    deliver.event(registration("confirmed", "ben", "ben@example.org", "Ben Cho", None, "spring"))
    assert held("ben") == ("ben@example.org", "Ben Cho", None)

    # The same in a batch, as the consumer handles a burst: the older registration's event comes last.
    add_contact(notifications_ctx, "cy", "cy@old.example.org")
    events = [
        registration("confirmed", "cy", "cy@home.org", "Cy Park", day + timedelta(days=5), "fall"),
        registration("promoted", "cy", "cy@centre.org", "Cy Park", day, "spring"),
        registration("confirmed", "dee", "dee@home.org", "Dee Nguyen", day + timedelta(days=5), "fall"),
        registration("promoted", "dee", "dee@centre.org", "Dee Nguyen", day, "spring"),
    ]
    notify_many = build_batch_handlers(notifications_ctx.extra["notifier"])["notify"]
    with notifications_ctx.db.unit_of_work() as uow:
        notify_many([parse_event(e.to_json()) for e in events], uow)
        uow.commit()
    assert held("cy")[:2] == ("cy@home.org", "Cy Park")  # a contact point the batch loaded
    assert held("dee")[:2] == ("dee@home.org", "Dee Nguyen")  # and one the batch itself adds


@BOTH
def test_a_registration_in_spanish_writes_to_the_person_in_spanish_from_its_confirmation_on(
    nclient, tokens, notifications_ctx, deliver, smtp_server, database
):
    headers = tokens.headers("jurisdiction_admin", "CA")
    day = datetime(2026, 9, 1, 15, 0, tzinfo=UTC)

    def registered(person, language, given, cohort="fall"):
        return registration_event(
            "confirmed",
            person,
            f"{person}@example.org",
            participant_language=language,
            contact_given_at=given.isoformat(),
            cohort_id=cohort,
            registration_id=f"reg-{person}-{cohort}",
        )

    deliver.event(registered("ana", "es", day))
    deliver.send()
    [confirmation] = smtp_server.to("ana@example.org")
    assert confirmation["Content-Language"] == "es" and confirmation["Subject"].startswith("Inscripción confirmada")
    assert nclient.get("/contact-points/ana", headers=headers).json["language"] == "es"
    # An older registration that said English does not undo it; one that says nothing keeps it.
    deliver.event(registered("ana", "en", day - timedelta(days=30), cohort="spring"))
    deliver.event(registered("ana", None, day + timedelta(days=1), cohort="winter"))
    assert nclient.get("/contact-points/ana", headers=headers).json["language"] == "es"
    # Someone who did not say reads English, as before.
    deliver.event(registered("ben", None, day))
    assert nclient.get("/contact-points/ben", headers=headers).json["language"] == "en"


def test_another_jurisdiction_sees_none_of_it(nclient, tokens, notifications_ctx, deliver, smtp_server):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    deliver.event(session_event("scheduled", session_data(next_week())))
    ca = nclient.get("/deliveries", headers=tokens.headers(*ADMIN_CA)).json["items"]
    assert len(ca) == 1
    ny = tokens.headers(*ADMIN_NY)
    assert nclient.get("/contact-points/ana", headers=ny).status_code == 404
    assert nclient.get("/contact-points", headers=ny).json["items"] == []
    assert nclient.get("/deliveries", headers=ny).json["items"] == []
    for answer in (
        nclient.get(f"/deliveries/{ca[0]['id']}", headers=ny),
        nclient.post(f"/deliveries/{ca[0]['id']}/retry", headers=ny),
    ):
        assert answer.status_code == 404 and answer.content_type == "application/problem+json"
    # NY writing "ana" makes NY's own contact point; CA's is untouched.
    nclient.put("/contact-points/ana", json={"email": "other@example.org"}, headers=ny)
    shown = nclient.get("/contact-points/ana", headers=tokens.headers(*ADMIN_CA)).json
    assert shown["email"] == "ana@example.org"


def test_a_participant_sees_and_changes_only_their_own(nclient, tokens, notifications_ctx):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    add_contact(notifications_ctx, "ben", "ben@example.org")
    ana = tokens.headers("participant", "CA", sub="ana")
    assert nclient.get("/contact-points/ana", headers=ana).json["email"] == "ana@example.org"
    assert nclient.put("/contact-points/ana", json={"email": "ana@new.example.org"}, headers=ana).status_code == 200
    for answer in (
        nclient.get("/contact-points/ben", headers=ana),
        nclient.put("/contact-points/ben", json={"email": "x@example.org"}, headers=ana),
        nclient.get("/contact-points", headers=ana),
        nclient.get("/deliveries", headers=ana),
        nclient.put("/preferences/session_reminder", json={"email": False}, headers=ana),
    ):
        assert answer.status_code == 403 and answer.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "not an address"},
        {"email": "ana@example.org", "language": "fr"},
        {"email": "ana@example.org", "time_zone": "Mars/Olympus"},
        {"email": "ana@example.org", "supervisor_email": 5},
        {"email": "ana@example.org", "unknown": 1},
        {"email": "ana\u202e@example.org"},
        [],
    ],
)
def test_bad_input_is_a_problem_and_writes_nothing(nclient, tokens, body):
    headers = tokens.headers(*ADMIN_CA)
    answer = nclient.put("/contact-points/ana", json=body, headers=headers)
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
    assert nclient.get("/contact-points", headers=headers).json["items"] == []


def test_unknown_kinds_and_odd_people_are_not_found(nclient, tokens):
    headers = tokens.headers(*ADMIN_CA)
    answer = nclient.put("/preferences/telepathy", json={"email": False}, headers=headers)
    assert answer.status_code == 404 and answer.content_type == "application/problem+json"
    answer = nclient.put(
        "/contact-points/a%20b/preferences/session_reminder",
        json={"channel": "email", "enabled": False},
        headers=headers,
    )
    assert answer.status_code == 404
    answer = nclient.put(
        "/contact-points/ana/preferences/session_reminder", json={"channel": "sms", "enabled": False}, headers=headers
    )
    assert answer.status_code == 422


def test_preferences_at_two_levels_decide_who_gets_a_reminder(nclient, tokens, notifications_ctx, deliver, smtp_server):
    from services.notifications.use_cases.reminders import write_due_reminders

    add_contact(notifications_ctx, "ana", "ana@example.org")
    add_contact(notifications_ctx, "ben", "ben@example.org")
    admin = tokens.headers(*ADMIN_CA)
    assert nclient.put("/preferences/session_reminder", json={"email": False}, headers=admin).status_code == 200
    ben = tokens.headers("participant", "CA", sub="ben")
    answer = nclient.put(
        "/contact-points/ben/preferences/session_reminder", json={"channel": "email", "enabled": True}, headers=ben
    )
    assert answer.status_code == 200
    assert nclient.get("/contact-points/ben/preferences", headers=ben).json["items"][0]["enabled"] is True
    data = session_data(next_week(), registrants=("ana", "ben"))
    deliver.event(session_event("scheduled", data))
    from datetime import datetime

    write_due_reminders(
        notifications_ctx.db, notifications_ctx.extra["notifier"], now=datetime.fromisoformat(data["starts_at"])
    )
    deliver.send()
    reminders = [m for m in smtp_server.messages if "starts in" in m.get_body(("plain",)).get_content()]
    assert [m["To"] for m in reminders] == ["ben@example.org", "ben@example.org"]  # 24 h and 1 h; ana's default is off


def test_the_kinds_are_listed_with_their_events_and_audience(nclient, tokens):
    items = nclient.get("/notification-kinds", headers=tokens.headers("participant", "CA")).json["items"]
    by_kind = {i["kind"]: i for i in items}
    assert by_kind["session_cancelled"]["event_types"] == ["scheduling.session.cancelled"]
    assert by_kind["session_cancelled"]["critical"]
    assert "commitment_overdue" in by_kind and "session_reminder" in by_kind
    # Every kind a person may set a preference for is listed, the leaver's CANCEL too.
    assert set(by_kind) == set(TEMPLATES)
    assert by_kind["community_left"]["event_types"] == ["content.community.member_left"]


def test_each_kind_says_whether_a_person_may_take_it_as_a_digest(nclient, tokens):
    items = nclient.get("/notification-kinds", headers=tokens.headers("participant", "CA")).json["items"]
    digestible = {i["kind"] for i in items if i["digestible"]}
    assert {"thread_replied", "request_approved", "followup_due"} <= digestible
    # An invite must update the calendar at once, and a late reminder is no reminder.
    assert not {"registration_confirmed", "session_rescheduled", "session_reminder"} & digestible
