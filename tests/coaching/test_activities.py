"""Support activities: logged with their fields, edits kept as history, confidential notes readable by
their author, the trainer's specialist and the jurisdiction admin only, every write and read audited;
office-hour bookings open drafts; another jurisdiction's activities are not found; bad input writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.coaching.models import Activity, ActivityRevision, NotesAudit, platform
from tests.coaching.conftest import deliver, open_plan
from tests.helpers import assert_problem, auth

# Every test on both engines: the embedded default and PostgreSQL.
pytestmark = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)

AUTHOR = ("coach", "CA", "coach-ca")
SPECIALIST = ("specialist", "CA", "its-ca")
ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
NOTES = "Ana worries about the director's support for primary caregiving; keep this between us."
ACTIVITY = {
    "trainer": "trainer-ca-1",
    "kind": "consultation",
    "occurred_on": "2026-12-01",
    "duration_minutes": 60,
    "mode": "virtual",
    "people_present": ["trainer-ca-1", "coach-ca"],
    "practices": ["primary-caregiving", "continuity-of-care"],
    "notes": NOTES,
    "strengths": "Clear plan for the first cohort.",
    "next_steps": "Draft the session calendar.",
    "follow_up_on": "2026-12-15",
}

# Who sees what: the notes, the activity without its notes, or nothing at all (404).
NOTES_SHOWN, WITHOUT_NOTES, NOT_FOUND = "notes", "without notes", "404"
READERS = [
    pytest.param(AUTHOR, NOTES_SHOWN, id="author"),
    pytest.param(SPECIALIST, NOTES_SHOWN, id="the trainer's specialist"),
    pytest.param(ADMIN, NOTES_SHOWN, id="jurisdiction admin"),
    pytest.param(("specialist", "CA", "its-ca-2"), WITHOUT_NOTES, id="another specialist"),
    pytest.param(("coach", "CA", "coach-ca-2"), WITHOUT_NOTES, id="another coach"),
    pytest.param(("facilitator", "CA", "trainer-ca-1"), WITHOUT_NOTES, id="the trainer"),
    pytest.param(("integration", "CA", "state-system"), WITHOUT_NOTES, id="state system"),
    pytest.param(("facilitator", "CA", "trainer-ca-2"), NOT_FOUND, id="another trainer"),
    pytest.param(("agency_coordinator", "CA", "coord-ca"), NOT_FOUND, id="agency coordinator"),
    pytest.param(("participant", "CA", "parent-1"), NOT_FOUND, id="participant"),
    pytest.param(("national_admin", "US", "national"), NOT_FOUND, id="national admin"),
    pytest.param(("jurisdiction_admin", "NY", "admin-ny"), NOT_FOUND, id="another jurisdiction's admin"),
    pytest.param(("specialist", "NY", "its-ca"), NOT_FOUND, id="same sub, another jurisdiction"),
]


@pytest.fixture
def logged(cclient, tokens, coaching_ctx):
    """An activity the coach logged for a trainer whose plan has its-ca as specialist; and an edit of it."""
    cclient.patch("/settings", json={"default_specialist": "its-ca"}, headers=auth(tokens, ADMIN))
    open_plan(coaching_ctx)
    created = cclient.post("/activities", json=ACTIVITY, headers=auth(tokens, AUTHOR))
    assert created.status_code == 201, created.json
    edited = cclient.patch(
        f"/activities/{created.json['id']}",
        json={"notes": NOTES + " Update: better.", "revision": 1},
        headers=auth(tokens, AUTHOR),
    )
    assert edited.status_code == 200, edited.json
    return edited.json


def audit_rows(ctx) -> list[tuple[str, str]]:
    with ctx.db.session() as session:
        return [(r.actor, r.action) for r in session.scalars(select(NotesAudit).order_by(NotesAudit.at, NotesAudit.id))]


ENDPOINTS = {
    "item": lambda c, a, h: [c.get(f"/activities/{a}", headers=h)],
    "list": lambda c, a, h: [c.get("/activities", headers=h)],
    "list by trainer": lambda c, a, h: [c.get("/activities?trainer=trainer-ca-1", headers=h)],
    "revisions": lambda c, a, h: [c.get(f"/activities/{a}/revisions", headers=h)],
}


def notes_in(endpoint: str, response) -> list:
    """Every notes value the response shows (a list for the collections, each revision's for the history)."""
    body = response.json
    if endpoint == "item":
        return [body["notes"]]
    if endpoint == "revisions":
        return [item["content"]["notes"] for item in body["items"]]
    return [item["notes"] for item in body["items"]]


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("who,sees", READERS)
def test_notes_are_shown_only_to_their_readers_and_each_read_is_audited(
    cclient, tokens, coaching_ctx, logged, endpoint, who, sees
):
    before = audit_rows(coaching_ctx)
    [response] = ENDPOINTS[endpoint](cclient, logged["id"], auth(tokens, who))
    after = audit_rows(coaching_ctx)
    if sees == NOT_FOUND:
        if endpoint.startswith("list"):
            assert response.status_code == 200 and response.json["items"] == []
        else:
            assert_problem(response, 404)
        assert after == before
        return
    assert response.status_code == 200, response.json
    notes = notes_in(endpoint, response)
    assert notes, "the activity is listed"
    if sees == NOTES_SHOWN:
        assert all(n and n.startswith(NOTES) for n in notes)
        assert after[len(before) :] == [(who[2], "read")]
    else:
        assert notes == [None] * len(notes)
        assert NOTES not in response.get_data(as_text=True)
        assert after == before
    if endpoint == "item":
        for name in ("kind", "occurred_on", "duration_minutes", "mode", "practices", "strengths", "next_steps"):
            assert response.json[name] == logged[name]


@pytest.mark.parametrize("who,sees", READERS)
def test_only_the_author_writes_and_only_their_answer_carries_notes(cclient, tokens, coaching_ctx, logged, who, sees):
    changed = cclient.patch(f"/activities/{logged['id']}", json={"notes": "overwritten"}, headers=auth(tokens, who))
    if who == AUTHOR:
        assert changed.status_code == 200 and changed.json["notes"] == "overwritten"
        assert audit_rows(coaching_ctx)[-1] == ("coach-ca", "write")
        return
    assert changed.status_code in (403, 404), changed.json
    assert NOTES not in changed.get_data(as_text=True)
    if sees == NOT_FOUND and who[0] in ("specialist", "coach"):
        assert changed.status_code == 404
    created = cclient.post("/activities", json=ACTIVITY, headers=auth(tokens, who))
    if who[0] in ("specialist", "coach"):
        assert created.status_code == 201  # they log their own, with their own notes
    else:
        assert_problem(created, 403)


def test_the_audit_says_who_wrote_and_read_and_only_the_admin_reads_it(cclient, tokens, coaching_ctx, logged):
    cclient.get(f"/activities/{logged['id']}", headers=auth(tokens, SPECIALIST))
    audit = cclient.get(f"/activities/{logged['id']}/audit", headers=auth(tokens, ADMIN))
    assert audit.status_code == 200
    rows = [(r["actor"], r["action"]) for r in audit.json["items"]]
    assert rows == [("coach-ca", "write"), ("coach-ca", "write"), ("its-ca", "read")]
    assert all(r["at"] and r["what"] for r in audit.json["items"])
    for who in (AUTHOR, SPECIALIST, ("facilitator", "CA", "trainer-ca-1")):
        assert cclient.get(f"/activities/{logged['id']}/audit", headers=auth(tokens, who)).status_code == 403


def test_edits_keep_their_history(cclient, tokens, coaching_ctx, logged):
    stale = cclient.patch(
        f"/activities/{logged['id']}", json={"duration_minutes": 90, "revision": 1}, headers=auth(tokens, AUTHOR)
    )
    assert_problem(stale, 409)
    history = cclient.get(f"/activities/{logged['id']}/revisions", headers=auth(tokens, AUTHOR)).json["items"]
    assert [h["revision"] for h in history] == [1, 2]
    assert history[0]["content"]["notes"] == NOTES
    assert history[1]["content"]["notes"] == NOTES + " Update: better."
    assert logged["revision"] == 2


def audit_records(ctx, activity_id: str) -> list[tuple[str, str, str]]:
    with ctx.db.session() as session:
        stmt = select(NotesAudit).where(NotesAudit.activity_id == activity_id).order_by(NotesAudit.at, NotesAudit.id)
        return [(r.actor, r.action, r.what) for r in session.scalars(stmt)]


def test_every_write_of_an_activity_is_audited_whatever_it_changes(cclient, tokens, coaching_ctx, logged):
    assert audit_records(coaching_ctx, logged["id"]) == [
        ("coach-ca", "write", "logged (revision 1)"),
        ("coach-ca", "write", "edited (revision 2): notes"),
    ]
    # No note touched: the edit of the date and duration is a write all the same.
    moved = cclient.patch(
        f"/activities/{logged['id']}",
        json={"occurred_on": "2026-12-02", "duration_minutes": 45, "revision": 2},
        headers=auth(tokens, AUTHOR),
    )
    assert moved.status_code == 200, moved.json
    assert audit_records(coaching_ctx, logged["id"])[-1] == (
        "coach-ca",
        "write",
        "edited (revision 3): occurred_on, duration_minutes",
    )
    unchanged = cclient.patch(f"/activities/{logged['id']}", json={"revision": 3}, headers=auth(tokens, AUTHOR))
    assert unchanged.status_code == 200, unchanged.json
    assert audit_records(coaching_ctx, logged["id"])[-1] == (
        "coach-ca",
        "write",
        "edited (revision 4): nothing changed",
    )
    # A refused edit wrote nothing, and leaves no record of a write.
    assert_problem(
        cclient.patch(f"/activities/{logged['id']}", json={"revision": 1}, headers=auth(tokens, AUTHOR)), 409
    )
    assert len(audit_records(coaching_ctx, logged["id"])) == 4


def test_an_office_hour_booking_opens_a_draft_for_the_specialist_to_complete(cclient, tokens, coaching_ctx):
    booking = {
        "booking_id": "booking-1",
        "series_id": "series-x",
        "specialist": "its-ca",
        "facilitator": "trainer-ca-1",
        "slot_start": "2026-12-03T01:00:00Z",
        "slot_end": "2026-12-03T01:30:00Z",
        "time_zone": "America/Los_Angeles",
        "topic": "Planning the first cohort",
    }
    deliver(coaching_ctx, "scheduling.office_hour.booked", booking)
    deliver(coaching_ctx, "scheduling.office_hour.booked", booking)  # redelivered: still one draft
    drafts = cclient.get("/activities?status=draft", headers=auth(tokens, SPECIALIST)).json["items"]
    assert len(drafts) == 1
    [draft] = drafts
    # Opened by coaching itself, then read by the specialist in the list above.
    assert [r for r in audit_records(coaching_ctx, draft["id"]) if r[1] == "write"] == [
        ("service:coaching", "write", "draft opened from an office-hour booking")
    ]
    assert (draft["kind"], draft["occurred_on"], draft["duration_minutes"]) == ("office_hours", "2026-12-02", 30)
    assert draft["author"] == "its-ca" and draft["status"] == "draft"
    # Nobody else sees a draft.
    assert cclient.get(f"/activities/{draft['id']}", headers=auth(tokens, ADMIN)).status_code == 404
    done = cclient.patch(
        f"/activities/{draft['id']}", json={"status": "logged", "notes": "Went well."}, headers=auth(tokens, SPECIALIST)
    )
    assert done.status_code == 200 and done.json["status"] == "logged"
    assert audit_records(coaching_ctx, draft["id"])[-1] == ("its-ca", "write", "completed (revision 2): notes")
    with coaching_ctx.db.session() as session:
        types = list(session.scalars(select(platform.outbox.event_type)))
    assert types.count("coaching.activity.logged") == 1
    # A cancellation after completion leaves the specialist's record alone; before, it removes the draft.
    deliver(
        coaching_ctx,
        "scheduling.office_hour.cancelled",
        {**booking, "reason": "booking_cancelled", "cancelled_by": "trainer-ca-1"},
    )
    assert cclient.get(f"/activities/{draft['id']}", headers=auth(tokens, ADMIN)).status_code == 200
    deliver(coaching_ctx, "scheduling.office_hour.booked", {**booking, "booking_id": "booking-2"})
    deliver(
        coaching_ctx,
        "scheduling.office_hour.cancelled",
        {**booking, "booking_id": "booking-2", "reason": "occurrence_cancelled", "cancelled_by": "its-ca"},
    )
    assert len(cclient.get("/activities?status=draft", headers=auth(tokens, SPECIALIST)).json["items"]) == 0
    with coaching_ctx.db.session() as session:
        removed = session.scalars(select(NotesAudit.what).where(NotesAudit.action == "write")).all()
    assert removed.count("draft removed: its office-hour booking was cancelled") == 1


BAD = [
    ({**ACTIVITY, "kind": "gossip"}, "kind"),
    ({**ACTIVITY, "mode": "telepathy"}, "mode"),
    ({**ACTIVITY, "practices": ["napping"]}, "practices"),
    ({**ACTIVITY, "duration_minutes": -5}, "duration_minutes"),
    ({**ACTIVITY, "duration_minutes": "an hour"}, "duration_minutes"),
    ({**ACTIVITY, "occurred_on": "yesterday"}, "occurred_on"),
    ({**ACTIVITY, "follow_up_on": "2026-11-01"}, "follow_up_on"),
    ({k: v for k, v in ACTIVITY.items() if k != "trainer"}, "trainer"),
    ({**ACTIVITY, "surprise": 1}, "surprise"),
    ({**ACTIVITY, "notes": "x" * 20001}, "notes"),
    ({**ACTIVITY, "plan_id": "no-such-plan"}, "plan_id"),
]


@pytest.mark.parametrize("body,field", BAD)
def test_bad_input_gets_problem_details_and_writes_nothing(cclient, tokens, coaching_ctx, body, field):
    response = cclient.post("/activities", json=body, headers=auth(tokens, AUTHOR))
    assert_problem(response, 422, field)
    with coaching_ctx.db.session() as session:
        for table in (Activity, ActivityRevision, NotesAudit, platform.outbox):
            assert session.scalar(select(func.count()).select_from(table)) == 0


def test_not_json_or_not_an_object_is_a_problem(cclient, tokens, coaching_ctx):
    headers = auth(tokens, AUTHOR)
    assert_problem(cclient.post("/activities", data="{", headers={**headers, "Content-Type": "application/json"}), 400)
    assert_problem(cclient.post("/activities", json=[1, 2], headers=headers), 422)
    assert_problem(cclient.post("/activities", data="x", headers={**headers, "Content-Type": "text/plain"}), 415)


def test_an_activity_names_its_author_as_their_sign_in_did(cclient, tokens, coaching_ctx):
    open_plan(coaching_ctx)
    named = tokens.headers("coach", "CA", sub="coach-ca", name="  Casey\n Coach ")
    created = cclient.post("/activities", json=ACTIVITY, headers=named)
    assert created.status_code == 201, created.json
    assert (created.json["author"], created.json["author_name"]) == ("coach-ca", "Casey Coach")
    listed = cclient.get("/activities?trainer=trainer-ca-1", headers=auth(tokens, ADMIN)).json["items"]
    assert [a["author_name"] for a in listed] == ["Casey Coach"]
    # A sign-in without a name: the API says so (null), and a page shows the author's id instead.
    unnamed = cclient.post("/activities", json={**ACTIVITY, "occurred_on": "2026-12-02"}, headers=auth(tokens, AUTHOR))
    assert unnamed.status_code == 201 and unnamed.json["author_name"] is None
