"""Attendance over HTTP: bulk marking, minutes credited, the marking window, atomic refusals, roles and completion."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.scheduling.models import Attendance, Cohort, Completion, TrainingSession
from shared.envelope import parse_event
from tests.helpers import assert_problem
from tests.scheduling import factories

BACKENDS = ["sqlite", "postgres"]
PROBLEM = "application/problem+json"
RECORDED = "scheduling.attendance.recorded"
COMPLETED = "scheduling.participant.completed"

FACILITATOR = ("facilitator", "CA", "fac-ca")
OTHER_FACILITATOR = ("facilitator", "CA", "fac-ca-2")
COORDINATOR = ("agency_coordinator", "CA", "coord-ca")
CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
TX_ADMIN = ("jurisdiction_admin", "TX", "admin-tx")
NATIONAL = ("national_admin", "US", "admin-us")


def auth(tokens, who) -> dict:
    role, tenant, sub = who
    return tokens.headers(role, tenant, sub=sub)


@dataclass
class Arranged:
    cohort_id: str
    sessions: list[str]  # ids in date order
    registrations: dict[str, str]  # participant -> registration id


def arrange(
    ctx,
    *,
    weeks_ago: int = 10,
    participants=("ana-lopez", "ben-cho", "cy-reyes"),
    extra: dict[str, str] | None = None,
    **cohort_kwargs,
) -> Arranged:
    """A CA cohort whose nine weekly sessions began ``weeks_ago`` weeks ago, with confirmed participants.

    ``extra`` adds registrations in other states: {participant: status}.
    """
    first_day = datetime.now(UTC) - timedelta(weeks=weeks_ago)
    with ctx.db.unit_of_work() as uow:
        cohort = factories.cohort(uow.session, first_day=first_day, **cohort_kwargs)
        registrations = {
            p: factories.registration(uow.session, cohort, p, registry_id=f"REG-{p}").id for p in participants
        }
        for participant, status in (extra or {}).items():
            registrations[participant] = factories.registration(
                uow.session, cohort, participant, status=status, position=1 if status == "waitlisted" else None
            ).id
        sessions = [
            s.id
            for s in uow.session.scalars(
                select(TrainingSession)
                .where(TrainingSession.cohort_id == cohort.id)
                .order_by(TrainingSession.starts_at)
            )
        ]
        uow.commit()
        return Arranged(cohort.id, sessions, registrations)


def mark(client, tokens, session_id: str, records: list[dict], who=FACILITATOR):
    return client.put(f"/sessions/{session_id}/attendance", json={"records": records}, headers=auth(tokens, who))


def present(*registration_ids: str) -> list[dict]:
    return [{"registration_id": rid, "status": "present"} for rid in registration_ids]


def outbox_events(ctx, event_type: str) -> list:
    Outbox = ctx.tables.outbox
    with ctx.db.session() as db:
        rows = db.scalars(select(Outbox).where(Outbox.event_type == event_type).order_by(Outbox.id)).all()
        return [parse_event(row.body) for row in rows]


def count(ctx, model) -> int:
    with ctx.db.session() as db:
        return db.scalar(select(func.count()).select_from(model))


def by_registration(sheet: dict) -> dict:
    return {row["registration_id"]: row for row in sheet["records"]}


# --- marking --------------------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_bulk_marking_credits_present_partial_and_absent(sclient, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx)
    ana, ben, cy = (a.registrations[p] for p in ("ana-lopez", "ben-cho", "cy-reyes"))
    response = mark(
        sclient,
        tokens,
        a.sessions[0],
        [
            {"registration_id": ana, "status": "present"},
            {"registration_id": ben, "status": "partial", "minutes": 45},
            {"registration_id": cy, "status": "absent"},
        ],
    )
    assert response.status_code == 200, response.json
    sheet = by_registration(response.json)
    assert (sheet[ana]["status"], sheet[ana]["minutes"], sheet[ana]["hours"]) == ("present", 120, 2.0)
    assert (sheet[ben]["status"], sheet[ben]["minutes"], sheet[ben]["hours"]) == ("partial", 45, 0.75)
    assert (sheet[cy]["status"], sheet[cy]["minutes"]) == ("absent", 0)
    assert sheet[ana]["recorded_by"] == "fac-ca"
    assert response.json["session_minutes"] == 120

    read = sclient.get(f"/sessions/{a.sessions[0]}/attendance", headers=auth(tokens, FACILITATOR))
    assert read.status_code == 200
    assert by_registration(read.json)[ben]["minutes"] == 45

    events = outbox_events(scheduling_ctx, RECORDED)
    assert sorted((e.data["registration_id"], e.data["status"], e.data["minutes"]) for e in events) == sorted(
        [(ana, "present", 120), (ben, "partial", 45), (cy, "absent", 0)]
    )
    assert {e.tenant for e in events} == {"CA"}
    assert all(e.data["session_id"] == a.sessions[0] and e.data["cohort_id"] == a.cohort_id for e in events)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_the_sheet_lists_unmarked_confirmed_registrations(sclient, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx, participants=("ana-lopez", "ben-cho"), extra={"wait-listed": "waitlisted"})
    mark(sclient, tokens, a.sessions[0], present(a.registrations["ana-lopez"]))
    sheet = by_registration(
        sclient.get(f"/sessions/{a.sessions[0]}/attendance", headers=auth(tokens, COORDINATOR)).json
    )
    assert set(sheet) == {a.registrations["ana-lopez"], a.registrations["ben-cho"]}
    assert sheet[a.registrations["ben-cho"]]["status"] is None


@pytest.mark.parametrize("modality", ["in_person", "virtual", "hybrid"])
def test_the_same_rule_for_every_modality(sclient, scheduling_ctx, tokens, modality):
    with scheduling_ctx.db.unit_of_work() as uow:
        agency = factories.agency(uow.session)
        room = factories.room(uow.session, agency) if modality != "virtual" else None
        uow.commit()
    a = arrange(scheduling_ctx, participants=("ana-lopez",), format=modality, agency_row=agency, room_row=room)
    response = mark(
        sclient,
        tokens,
        a.sessions[0],
        [{"registration_id": a.registrations["ana-lopez"], "status": "partial", "minutes": 90}],
    )
    assert response.status_code == 200, response.json
    assert response.json["records"][0]["minutes"] == 90


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_re_recording_updates_the_row_and_announces_only_changes(sclient, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx, participants=("ana-lopez",))
    ana = a.registrations["ana-lopez"]
    assert mark(sclient, tokens, a.sessions[0], present(ana)).status_code == 200
    changed = mark(
        sclient, tokens, a.sessions[0], [{"registration_id": ana, "status": "partial", "minutes": 60}], who=COORDINATOR
    )
    assert changed.status_code == 200
    row = changed.json["records"][0]
    assert (row["status"], row["minutes"], row["recorded_by"]) == ("partial", 60, "coord-ca")
    same_again = mark(sclient, tokens, a.sessions[0], [{"registration_id": ana, "status": "partial", "minutes": 60}])
    assert same_again.status_code == 200
    assert count(scheduling_ctx, Attendance) == 1
    assert [(e.data["status"], e.data["minutes"]) for e in outbox_events(scheduling_ctx, RECORDED)] == [
        ("present", 120),
        ("partial", 60),
    ]


# --- refusals, with nothing written ---------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_marking_too_early_is_a_conflict_naming_the_window(sclient, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx, weeks_ago=-1, participants=("ana-lopez",))  # first session next week
    response = mark(sclient, tokens, a.sessions[0], present(a.registrations["ana-lopez"]))
    assert response.status_code == 409
    assert response.mimetype == PROBLEM
    assert "30 minutes before it starts" in response.json["detail"]
    assert "opens_at" in response.json
    assert count(scheduling_ctx, Attendance) == 0


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_marking_opens_shortly_before_the_start(sclient, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx, weeks_ago=-1, participants=("ana-lopez",))
    with scheduling_ctx.db.unit_of_work() as uow:
        session = uow.session.get(TrainingSession, a.sessions[0])
        session.starts_at = datetime.now(UTC) + timedelta(minutes=20)
        session.ends_at = session.starts_at + timedelta(minutes=120)
        uow.commit()
    response = mark(sclient, tokens, a.sessions[0], present(a.registrations["ana-lopez"]))
    assert response.status_code == 200, response.json


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_cancelled_session_is_a_conflict(sclient, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx, participants=("ana-lopez",))
    with scheduling_ctx.db.unit_of_work() as uow:
        uow.session.get(TrainingSession, a.sessions[2]).status = "cancelled"
        uow.commit()
    response = mark(sclient, tokens, a.sessions[2], present(a.registrations["ana-lopez"]))
    assert response.status_code == 409
    assert response.mimetype == PROBLEM
    assert "cancelled" in response.json["detail"]
    assert count(scheduling_ctx, Attendance) == 0


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_unknown_or_unconfirmed_registrations_write_nothing(sclient, scheduling_ctx, tokens, database):
    a = arrange(
        scheduling_ctx, participants=("ana-lopez",), extra={"wait-listed": "waitlisted", "gone-away": "cancelled"}
    )
    other = arrange(scheduling_ctx, participants=("other-cohort",))
    records = [
        {"registration_id": a.registrations["ana-lopez"], "status": "present"},
        {"registration_id": a.registrations["wait-listed"], "status": "present"},
        {"registration_id": "00000000-0000-4000-8000-00000000dead", "status": "present"},
        {"registration_id": other.registrations["other-cohort"], "status": "present"},
        {"registration_id": a.registrations["gone-away"], "status": "absent"},
    ]
    outbox_before = count(scheduling_ctx, scheduling_ctx.tables.outbox)
    response = mark(sclient, tokens, a.sessions[0], records)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    errors = response.json["errors"]["records"]
    assert set(errors) == {"1", "2", "3", "4"}
    assert a.registrations["wait-listed"] in errors["1"]["registration_id"][0]
    assert "00000000-0000-4000-8000-00000000dead" in errors["2"]["registration_id"][0]
    assert other.registrations["other-cohort"] in response.json["detail"]
    assert count(scheduling_ctx, Attendance) == 0
    assert count(scheduling_ctx, scheduling_ctx.tables.outbox) == outbox_before


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
@pytest.mark.parametrize(
    ("records", "where"),
    [
        ([{"status": "partial", "minutes": 0}], "minutes"),
        ([{"status": "partial", "minutes": 120}], "minutes"),
        ([{"status": "partial"}], "minutes"),
        ([{"status": "present", "minutes": 30}], "minutes"),
        ([{"status": "absent", "minutes": 30}], "minutes"),
    ],
)
def test_minutes_that_do_not_fit_write_nothing(sclient, scheduling_ctx, tokens, database, records, where):
    a = arrange(scheduling_ctx, participants=("ana-lopez", "ben-cho"))
    body = [
        {"registration_id": a.registrations["ben-cho"], "status": "present"},
        {"registration_id": a.registrations["ana-lopez"], **records[0]},
    ]
    response = mark(sclient, tokens, a.sessions[0], body)
    assert response.status_code == 422, response.json
    assert where in response.json["errors"]["records"]["1"]
    assert count(scheduling_ctx, Attendance) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"records": []},
        {"records": [{"registration_id": "x", "status": "late"}]},
        {"records": [{"registration_id": "x", "status": "partial", "minutes": "ten"}]},
        {"records": [{"registration_id": "x", "status": "partial", "minutes": 10.5}]},
        {"records": [{"registration_id": "x", "status": "present", "recorded_by": "me"}]},
        {"records": [{"status": "present"}]},
        {"rows": []},
    ],
)
def test_malformed_sheets_are_problems(sclient, scheduling_ctx, tokens, body):
    a = arrange(scheduling_ctx, participants=("ana-lopez",))
    response = sclient.put(f"/sessions/{a.sessions[0]}/attendance", json=body, headers=auth(tokens, FACILITATOR))
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert response.json["errors"]
    assert count(scheduling_ctx, Attendance) == 0


def test_a_body_that_is_not_json_is_refused(sclient, scheduling_ctx, tokens):
    a = arrange(scheduling_ctx, participants=("ana-lopez",))
    response = sclient.put(
        f"/sessions/{a.sessions[0]}/attendance",
        data="records=1",
        headers={**auth(tokens, FACILITATOR), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert response.mimetype == PROBLEM


# --- roles ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_who_may_mark(sclient, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx, participants=("ana-lopez",))
    records = present(a.registrations["ana-lopez"])
    assert mark(sclient, tokens, a.sessions[0], records, who=OTHER_FACILITATOR).status_code == 403
    assert mark(sclient, tokens, a.sessions[0], records, who=("participant", "CA", "ana-lopez")).status_code == 403
    assert (
        mark(sclient, tokens, a.sessions[0], records, who=("agency_coordinator", "CA", "someone-else")).status_code
        == 403
    )
    assert count(scheduling_ctx, Attendance) == 0
    for who in (FACILITATOR, COORDINATOR, CA_ADMIN, NATIONAL):
        assert mark(sclient, tokens, a.sessions[0], records, who=who).status_code == 200


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_another_jurisdiction_gets_404(sclient, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx, participants=("ana-lopez",))
    records = present(a.registrations["ana-lopez"])
    tx_facilitator = ("facilitator", "TX", "fac-ca")  # same sub, other jurisdiction
    for who in (TX_ADMIN, tx_facilitator):
        written = mark(sclient, tokens, a.sessions[0], records, who=who)
        assert written.status_code == 404 and written.mimetype == PROBLEM
        read = sclient.get(f"/sessions/{a.sessions[0]}/attendance", headers=auth(tokens, who))
        assert read.status_code == 404
    assert count(scheduling_ctx, Attendance) == 0
    assert sclient.get(f"/sessions/{a.sessions[0]}/attendance").status_code == 401


def test_participants_do_not_read_the_sheet(sclient, scheduling_ctx, tokens):
    a = arrange(scheduling_ctx, participants=("ana-lopez",))
    response = sclient.get(
        f"/sessions/{a.sessions[0]}/attendance", headers=tokens.headers("participant", "CA", sub="ana-lopez")
    )
    assert response.status_code == 403


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_summary_tells_how_far_attendance_is_taken_in_each_session(sclient, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx, participants=("ana-lopez", "ben-cho", "cy-reyes"), extra={"wait-listed": "waitlisted"})
    ana, ben = a.registrations["ana-lopez"], a.registrations["ben-cho"]
    mark(
        sclient,
        tokens,
        a.sessions[0],
        present(ana, ben) + [{"registration_id": a.registrations["cy-reyes"], "status": "absent"}],
    )
    mark(sclient, tokens, a.sessions[1], present(ana))
    asked = [a.sessions[0], a.sessions[1], a.sessions[2], a.sessions[0]]  # a repeated id is answered once
    response = sclient.get(
        "/attendance-summaries", query_string={"session_id": asked}, headers=auth(tokens, FACILITATOR)
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    summary = {item["session_id"]: (item["marked"], item["unmarked"]) for item in response.json["items"]}
    assert summary == {a.sessions[0]: (3, 0), a.sessions[1]: (1, 2), a.sessions[2]: (0, 3)}
    assert [item["session_status"] for item in response.json["items"]] == ["scheduled"] * 3


def test_a_summary_covers_every_session_asked_for_or_none(sclient, scheduling_ctx, tokens):
    a = arrange(scheduling_ctx, participants=("ana-lopez",))
    other = arrange(scheduling_ctx, participants=("ana-lopez",), tenant="TX")
    mine = {"session_id": [a.sessions[0]]}
    assert_problem(
        sclient.get(
            "/attendance-summaries",
            query_string={"session_id": [a.sessions[0], other.sessions[0]]},
            headers=auth(tokens, FACILITATOR),
        ),
        404,
    )
    participant = tokens.headers("participant", "CA", sub="ana-lopez")
    assert_problem(sclient.get("/attendance-summaries", query_string=mine, headers=participant), 403)
    assert_problem(sclient.get("/attendance-summaries", headers=auth(tokens, FACILITATOR)), 422, "session_id")
    too_many = {"session_id": [a.sessions[0]] * 51}
    assert_problem(
        sclient.get("/attendance-summaries", query_string=too_many, headers=auth(tokens, FACILITATOR)),
        422,
        "session_id",
    )
    assert sclient.get("/attendance-summaries", query_string=mine).status_code == 401


# --- completion -------------------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_completion_is_emitted_once_despite_re_recording_and_retries(sclient, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx, participants=("ana-lopez", "ben-cho"))
    ana, ben = a.registrations["ana-lopez"], a.registrations["ben-cho"]
    for session_id in a.sessions[:8]:
        assert mark(sclient, tokens, session_id, present(ana, ben)).status_code == 200
    assert outbox_events(scheduling_ctx, COMPLETED) == []

    last = [{"registration_id": ana, "status": "present"}, {"registration_id": ben, "status": "absent"}]
    assert mark(sclient, tokens, a.sessions[8], last).status_code == 200
    assert mark(sclient, tokens, a.sessions[8], last).status_code == 200  # the same request, retried
    assert (
        mark(
            sclient,
            tokens,
            a.sessions[8],  # re-recorded
            [{"registration_id": ana, "status": "partial", "minutes": 100}],
        ).status_code
        == 200
    )
    assert mark(sclient, tokens, a.sessions[0], present(ana), who=CA_ADMIN).status_code == 200

    completed = outbox_events(scheduling_ctx, COMPLETED)
    assert len(completed) == 1
    event = completed[0]
    assert (event.subject, event.tenant) == (ana, "CA")
    assert event.data["sessions_attended"] == 9
    assert event.data["hours"] == 18.0
    assert event.data["registry_id"] == "REG-ana-lopez"
    assert event.data["participant_name"] == "Ana Lopez"  # as registered: coaching's caseload shows it
    with scheduling_ctx.db.session() as db:  # what the participant's e-mail names
        assert event.data["cohort_title"] == db.get(Cohort, a.cohort_id).title
    with scheduling_ctx.db.session() as db:
        rows = db.scalars(select(Completion)).all()
        assert [(c.registration_id, c.certificate_code) for c in rows] == [(ana, event.data["certificate_code"])]
        assert len(rows[0].certificate_code) >= 12


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_completed_registration_says_when_and_comes_again_in_changed_after_lists(
    sclient, scheduling_ctx, tokens, database
):
    a = arrange(scheduling_ctx, participants=("ana-lopez", "ben-cho"))
    ana, ben = a.registrations["ana-lopez"], a.registrations["ben-cho"]
    admin = auth(tokens, CA_ADMIN)
    listed = sclient.get(f"/cohorts/{a.cohort_id}/registrations", query_string={"changed_after": 0}, headers=admin)
    synced = listed.json["last_change"]
    assert {r["id"]: r["completed_at"] for r in listed.json["items"]} == {ana: None, ben: None}

    for session_id in a.sessions:
        assert (
            mark(sclient, tokens, session_id, present(ana) + [{"registration_id": ben, "status": "absent"}]).status_code
            == 200
        )

    since = sclient.get(
        f"/cohorts/{a.cohort_id}/registrations", query_string={"changed_after": synced}, headers=admin
    ).json["items"]
    assert [r["id"] for r in since] == [ana]  # the completion reached the sync; Ben's unchanged row did not come
    with scheduling_ctx.db.session() as db:
        completed_at = db.scalar(select(Completion.completed_at).where(Completion.registration_id == ana))
    assert datetime.fromisoformat(since[0]["completed_at"]) == completed_at
    assert since[0]["status"] == "confirmed"
    mine = sclient.get("/me/registrations", headers=tokens.headers("participant", "CA", sub="ana-lopez")).json
    assert [r["completed_at"] for r in mine["items"]] == [since[0]["completed_at"]]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_completion_minimum_is_configurable(sclient, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx, participants=("ana-lopez", "ben-cho"), completion_minimum=7)
    ana, ben = a.registrations["ana-lopez"], a.registrations["ben-cho"]
    for index, session_id in enumerate(a.sessions[:7]):
        records = [{"registration_id": ana, "status": "partial", "minutes": 90}]
        if index < 6:
            records.append({"registration_id": ben, "status": "present"})
        assert mark(sclient, tokens, session_id, records).status_code == 200
    completed = outbox_events(scheduling_ctx, COMPLETED)
    assert [e.data["registration_id"] for e in completed] == [ana]
    assert (completed[0].data["sessions_attended"], completed[0].data["hours"]) == (7, 10.5)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_cancelled_session_does_not_block_completion(sclient, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx, participants=("ana-lopez",))
    with scheduling_ctx.db.unit_of_work() as uow:
        uow.session.get(TrainingSession, a.sessions[4]).status = "cancelled"
        uow.commit()
    for session_id in a.sessions[:4] + a.sessions[5:]:
        assert mark(sclient, tokens, session_id, present(a.registrations["ana-lopez"])).status_code == 200
    assert len(outbox_events(scheduling_ctx, COMPLETED)) == 1


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_concurrent_final_marks_complete_once(scheduling_app, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx, participants=("ana-lopez",), completion_minimum=8)
    ana = a.registrations["ana-lopez"]
    client = scheduling_app.test_client()
    for session_id in a.sessions[:7]:
        assert mark(client, tokens, session_id, present(ana)).status_code == 200
    # Sessions 8 and 9 are marked at the same moment by two people: either completes the participant.
    barrier = threading.Barrier(4)
    statuses = []

    def mark_in_thread(session_id, who):
        own_client = scheduling_app.test_client()
        barrier.wait()
        statuses.append(mark(own_client, tokens, session_id, present(ana), who=who).status_code)

    threads = [
        threading.Thread(target=mark_in_thread, args=(session_id, who))
        for session_id in a.sessions[7:9]
        for who in (FACILITATOR, CA_ADMIN)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 200, 200, 200]
    assert len(outbox_events(scheduling_ctx, COMPLETED)) == 1
    assert count(scheduling_ctx, Completion) == 1
    assert count(scheduling_ctx, Attendance) == 9


# --- Idempotency-Key ------------------------------------------------------------------------------


def keyed_mark(client, tokens, session_id: str, records: list[dict], key: str, who=FACILITATOR):
    return client.put(
        f"/sessions/{session_id}/attendance",
        json={"records": records},
        headers={**auth(tokens, who), "Idempotency-Key": key},
    )


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_retried_sheet_gets_its_first_answer_and_does_not_undo_a_later_correction(
    sclient, scheduling_ctx, tokens, database
):
    """A device's batch of offline marks is sent again after its answer was lost; meanwhile someone
    corrected a mark from another device. The retry must not write the older mark back."""
    a = arrange(scheduling_ctx, participants=("ana-lopez", "ben-cho"))
    ana, ben = a.registrations["ana-lopez"], a.registrations["ben-cho"]
    batch = [{"registration_id": ana, "status": "present"}, {"registration_id": ben, "status": "absent"}]
    first = keyed_mark(sclient, tokens, a.sessions[0], batch, "device-1-batch-1")
    assert first.status_code == 200, first.json
    assert "Idempotent-Replayed" not in first.headers

    corrected = mark(sclient, tokens, a.sessions[0], [{"registration_id": ana, "status": "absent"}], who=CA_ADMIN)
    assert by_registration(corrected.json)[ana]["status"] == "absent"

    # The same batch in another key order is the same request (JSON compared by its meaning).
    retried = sclient.put(
        f"/sessions/{a.sessions[0]}/attendance",
        data=json.dumps(
            {"records": [{"status": "present", "registration_id": ana}, {"registration_id": ben, "status": "absent"}]}
        ),
        headers={
            **auth(tokens, FACILITATOR),
            "Idempotency-Key": "device-1-batch-1",
            "Content-Type": "application/json",
        },
    )
    assert retried.status_code == 200
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.json == first.json
    sheet = by_registration(sclient.get(f"/sessions/{a.sessions[0]}/attendance", headers=auth(tokens, CA_ADMIN)).json)
    assert (sheet[ana]["status"], sheet[ben]["status"]) == ("absent", "absent")
    # Three marks changed (two first, then the correction); the replay announced nothing.
    assert len(outbox_events(scheduling_ctx, RECORDED)) == 3


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_key_reused_with_other_marks_is_refused_and_writes_nothing(sclient, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx, participants=("ana-lopez", "ben-cho"))
    ana, ben = a.registrations["ana-lopez"], a.registrations["ben-cho"]
    assert keyed_mark(sclient, tokens, a.sessions[0], present(ana), "batch-7").status_code == 200
    reused = keyed_mark(sclient, tokens, a.sessions[0], present(ben), "batch-7")
    body = assert_problem(reused, 422, "Idempotency-Key")
    assert body["type"].endswith("/idempotency-key-reused")
    # The same key on another session's sheet is another request too.
    assert_problem(keyed_mark(sclient, tokens, a.sessions[1], present(ana), "batch-7"), 422, "Idempotency-Key")
    assert count(scheduling_ctx, Attendance) == 1
    assert len(outbox_events(scheduling_ctx, RECORDED)) == 1


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_refused_sheet_frees_its_key(sclient, scheduling_ctx, tokens, database):
    a = arrange(scheduling_ctx, participants=("ana-lopez",))
    ana = a.registrations["ana-lopez"]
    with scheduling_ctx.db.unit_of_work() as uow:
        uow.session.get(TrainingSession, a.sessions[0]).status = "cancelled"
        uow.commit()
    assert_problem(keyed_mark(sclient, tokens, a.sessions[0], present(ana), "batch-9"), 409)
    with scheduling_ctx.db.unit_of_work() as uow:
        uow.session.get(TrainingSession, a.sessions[0]).status = "scheduled"
        uow.commit()
    answer = keyed_mark(sclient, tokens, a.sessions[0], present(ana), "batch-9")
    assert answer.status_code == 200 and "Idempotent-Replayed" not in answer.headers
    assert count(scheduling_ctx, Attendance) == 1


def test_keys_belong_to_their_caller(sclient, scheduling_ctx, tokens):
    """Two people may pick the same key: each gets their own request run, not the other's answer."""
    a = arrange(scheduling_ctx, participants=("ana-lopez", "ben-cho"))
    ana, ben = a.registrations["ana-lopez"], a.registrations["ben-cho"]
    assert keyed_mark(sclient, tokens, a.sessions[0], present(ana), "same-key").status_code == 200
    other = keyed_mark(sclient, tokens, a.sessions[0], present(ben), "same-key", who=CA_ADMIN)
    assert other.status_code == 200 and "Idempotent-Replayed" not in other.headers
    assert count(scheduling_ctx, Attendance) == 2


def test_the_openapi_document_declares_the_key_on_the_sheet(sclient):
    operation = sclient.get("/openapi.json").json["paths"]["/sessions/{session_id}/attendance"]["put"]
    assert "Idempotency-Key" in [p.get("name") for p in operation["parameters"]]
    assert "Idempotent-Replayed" in operation["responses"]["200"]["headers"]
    assert {"400", "409", "422"} <= set(operation["responses"])


# --- a participant's own marks --------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_participant_reads_her_own_marks_session_by_session_and_nobody_elses(
    sclient, scheduling_ctx, tokens, database
):
    a = arrange(scheduling_ctx)
    other = arrange(scheduling_ctx, participants=("ana-lopez",))  # her second cohort
    ana, ben = a.registrations["ana-lopez"], a.registrations["ben-cho"]
    assert mark(sclient, tokens, a.sessions[1], present(ana, ben)).status_code == 200
    partial = [{"registration_id": ana, "status": "partial", "minutes": 45}, *present(ben)]
    assert mark(sclient, tokens, a.sessions[0], partial).status_code == 200
    absent = [{"registration_id": ana, "status": "absent"}]
    assert mark(sclient, tokens, a.sessions[2], absent).status_code == 200
    assert mark(sclient, tokens, other.sessions[0], present(other.registrations["ana-lopez"])).status_code == 200
    # The facilitator corrects session 3: she was there after all.
    assert mark(sclient, tokens, a.sessions[2], present(ana)).status_code == 200

    ana_token = tokens.headers("participant", "CA", sub="ana-lopez")
    mine = sclient.get("/me/attendance", query_string={"cohort_id": a.cohort_id}, headers=ana_token)
    assert mine.status_code == 200, mine.json
    marks = mine.json["items"]
    assert [(m["session_id"], m["status"], m["minutes"], m["hours"]) for m in marks] == [
        (a.sessions[0], "partial", 45, 0.75),
        (a.sessions[1], "present", 120, 2.0),
        (a.sessions[2], "present", 120, 2.0),  # the correction, not the first mark
    ]
    assert {(m["registration_id"], m["cohort_id"], m["session_status"]) for m in marks} == {
        (ana, a.cohort_id, "scheduled")
    }
    first = marks[0]
    assert first["module_position"] == 1 and first["time_zone"] == "America/Los_Angeles"
    assert first["local_start"].endswith(("-08:00", "-07:00"))

    # Both cohorts, a page at a time, in the sessions' order.
    pages, cursor = [], None
    while True:
        page = sclient.get(
            "/me/attendance", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=ana_token
        )
        assert page.status_code == 200
        pages.append(page.json["items"])
        cursor = page.json.get("next_cursor")
        if not cursor:
            break
    walked = [m for items in pages for m in items]
    assert len(walked) == 4 and len(pages) == 2
    assert sorted(m["session_id"] for m in walked) == sorted([*a.sessions[:3], other.sessions[0]])
    assert [m["starts_at"] for m in walked] == sorted(m["starts_at"] for m in walked)

    # Ben reads his own two; the same subject in another jurisdiction, and a stranger, read none.
    ben_token = tokens.headers("participant", "CA", sub="ben-cho")
    assert len(sclient.get("/me/attendance", headers=ben_token).json["items"]) == 2
    assert (
        sclient.get("/me/attendance", headers=tokens.headers("participant", "TX", sub="ana-lopez")).json["items"] == []
    )
    assert (
        sclient.get("/me/attendance", headers=tokens.headers("participant", "CA", sub="cy-reyes")).json["items"] == []
    )
    assert sclient.get("/me/attendance").status_code == 401


@pytest.mark.parametrize("query", [{"limit": "0"}, {"cursor": "not-a-cursor"}, {"cohort_id": "x" * 37}])
def test_bad_arguments_to_my_marks_are_problems(sclient, scheduling_ctx, tokens, query):
    answer = sclient.get("/me/attendance", query_string=query, headers=tokens.headers("participant", "CA"))
    assert_problem(answer, 422, *query)
