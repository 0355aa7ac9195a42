"""Corrections after the fact reach the state registry, the certificate's verifier and the calendars alike.

A session cancelled after it took place, a cancelled cohort, a session that may no longer be moved.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import vobject
from sqlalchemy import select

from services.scheduling.domain.attendance import format_hours
from services.scheduling.models import Completion
from shared.testing import wait_until
from tests.helpers import assert_problem
from tests.scheduling.test_certificates import pdf_text
from tests.scheduling.test_training_hours import CA_ADMIN, arrange, auth

BACKENDS = ["sqlite", "postgres"]
PARTICIPANT = ("participant", "CA", "ana-lopez")


def sync(client, tokens, after: int) -> tuple[dict, int]:
    """A registry's incremental sync: every row changed after ``after`` by its key, and where to resume."""
    rows, params = {}, {"changed_after": after, "limit": 3}
    while True:
        response = client.get("/training-hours", query_string=params, headers=auth(tokens, CA_ADMIN))
        assert response.status_code == 200, response.json
        for row in response.json["items"]:
            assert row["participant"] not in rows, "a row came twice in one walk"
            rows[row["participant"]] = row
        if "next_cursor" not in response.json:
            return rows, response.json["last_change"]
        params["cursor"] = response.json["next_cursor"]


def sync_until(client, tokens, after: int, count: int) -> tuple[dict, int]:
    # On PostgreSQL a change comes once every older transaction on the server has ended.
    return wait_until(
        lambda: (found := sync(client, tokens, after)) and len(found[0]) >= count and found,
        timeout=30,
        message=f"{count} changed rows",
    )


def cancel(client, tokens, path: str, reason: str):
    response = client.post(f"{path}/cancel", json={"reason": reason}, headers=auth(tokens, CA_ADMIN))
    assert response.status_code == 200, response.json
    return response


def certificate_code(ctx, registration_id: str) -> str:
    with ctx.db.session() as db:
        return db.scalars(
            select(Completion.certificate_code).where(Completion.registration_id == registration_id)
        ).one()


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_session_cancelled_after_it_took_place_reaches_the_registry_as_a_correction(
    sclient, scheduling_ctx, tokens, database
):
    _cohort_id, _regs, sessions = arrange(sclient, scheduling_ctx, tokens)
    copied, last = sync_until(sclient, tokens, 0, 2)
    assert (copied["ana-lopez"]["hours"], copied["ben-cho"]["hours"]) == (18.0, 2.5)

    cancel(sclient, tokens, f"/sessions/{sessions[0][0]}", "The trainer was not certified that day.")

    changed, _ = sync_until(sclient, tokens, last, 2)
    ana, ben = changed["ana-lopez"], changed["ben-cho"]
    assert (ana["hours"], ana["sessions_attended"], ana["status"]) == (16.0, 8, "active")
    assert (ben["hours"], ben["sessions_attended"], ben["status"]) == (0.5, 1, "active")
    assert ana["change"] > copied["ana-lopez"]["change"]
    assert ana["updated_at"] > copied["ana-lopez"]["updated_at"]  # people filtering by time see it too


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_cancelled_cohort_sends_each_of_its_rows_once_as_a_voided_tombstone(
    sclient, scheduling_ctx, tokens, database
):
    cohort_id, _regs, _sessions = arrange(sclient, scheduling_ctx, tokens)
    _copied, last = sync_until(sclient, tokens, 0, 2)

    cancel(sclient, tokens, f"/cohorts/{cohort_id}", "The host agency closed.")

    tombstones, last = sync_until(sclient, tokens, last, 2)
    for row in tombstones.values():
        assert (row["status"], row["hours"], row["minutes"], row["completed"]) == ("voided", 0.0, 0, False)
        assert row["void_reason"] == "The cohort was cancelled: The host agency closed."
    assert sync(sclient, tokens, last)[0] == {}  # once
    full = sclient.get("/training-hours", headers=auth(tokens, CA_ADMIN)).json["items"]
    assert [row for row in full if row["cohort_id"] == cohort_id] == []  # a full export holds what counts
    as_csv = sclient.get("/training-hours?format=csv&changed_after=0", headers=auth(tokens, CA_ADMIN))
    assert as_csv.get_data(as_text=True).count(",voided,The cohort was cancelled: The host agency closed.,") == 2


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_every_session_a_person_was_marked_in_cancelled_voids_their_row(sclient, scheduling_ctx, tokens, database):
    _cohort_id, _regs, sessions = arrange(sclient, scheduling_ctx, tokens)
    _copied, last = sync_until(sclient, tokens, 0, 2)
    for session_id, _starts in sessions[:2]:  # ben-cho attended only these two
        cancel(sclient, tokens, f"/sessions/{session_id}", "Held without a certified trainer.")
    changed, _ = sync_until(sclient, tokens, last, 2)
    assert (changed["ben-cho"]["status"], changed["ben-cho"]["hours"]) == ("voided", 0.0)
    assert changed["ben-cho"]["void_reason"] == "Every session this person was marked in was cancelled."
    assert (changed["ana-lopez"]["status"], changed["ana-lopez"]["hours"]) == ("active", 14.0)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_verification_states_what_was_certified_at_issue_and_that_a_cancelled_cohort_voids_it(
    sclient, scheduling_ctx, tokens, database
):
    cohort_id, regs, sessions = arrange(sclient, scheduling_ctx, tokens)
    code = certificate_code(scheduling_ctx, regs["ana-lopez"])
    issued = sclient.get(f"/certificates/{code}").json
    assert (issued["hours"], issued["status"], issued["void_reason"]) == (6.0, "valid", None)  # completed at 3

    cancel(sclient, tokens, f"/sessions/{sessions[0][0]}", "The trainer was not certified that day.")
    after = sclient.get(f"/certificates/{code}").json
    certified = ("hours", "sessions_attended", "completed_at", "status", "void_reason")
    assert {k: after[k] for k in certified} == {k: issued[k] for k in certified}  # what it certified stays
    pdf = sclient.get(f"/registrations/{regs['ana-lopez']}/certificate.pdf", headers=auth(tokens, CA_ADMIN))
    assert f"{format_hours(360)} training hours" in pdf_text(pdf.data)  # on its PDF too

    cancel(sclient, tokens, f"/cohorts/{cohort_id}", "The host agency closed.")
    voided = sclient.get(f"/certificates/{code}").json
    assert (voided["status"], voided["void_reason"]) == ("voided", "The cohort was cancelled: The host agency closed.")
    assert voided["hours"] == issued["hours"]
    page = sclient.get(f"/certificates/{code}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Void: this certificate" in page and "The cohort was cancelled: The host agency closed." in page


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_session_with_attendance_is_not_moved_but_may_be_cancelled_everywhere_at_once(
    sclient, scheduling_ctx, tokens, database
):
    cohort_id, _regs, sessions = arrange(sclient, scheduling_ctx, tokens, attended={"ana-lopez": 1, "ben-cho": 0})
    marked, unmarked = sessions[0], sessions[1]
    headers = auth(tokens, CA_ADMIN)

    def move(session, hours):
        return sclient.post(
            f"/sessions/{session[0]}/reschedule",
            headers=headers,
            json={
                "starts_at": (session[1] + timedelta(hours=hours)).isoformat(),
                "ends_at": (session[1] + timedelta(hours=hours + 2)).isoformat(),
                "reason": "Wrong time entered.",
            },
        )

    feed = sclient.post("/calendar-feeds", json={"kind": "cohort", "subject": cohort_id}, headers=headers).json
    before = sclient.get(urlsplit(feed["url"]).path).get_data(as_text=True)
    assert_problem(move(marked, 1), 409, "starts_at")  # its credit is of the session as held
    assert sclient.get(urlsplit(feed["url"]).path).get_data(as_text=True) == before
    assert move(unmarked, 1).status_code == 200  # nobody was marked: the time may be corrected

    _copied, last = sync_until(sclient, tokens, 0, 1)
    cancel(sclient, tokens, f"/sessions/{marked[0]}", "Held without a certified trainer.")
    changed, _ = sync_until(sclient, tokens, last, 1)
    assert (changed["ana-lopez"]["status"], changed["ana-lopez"]["hours"]) == ("voided", 0.0)
    calendar = vobject.readOne(sclient.get(urlsplit(feed["url"]).path).get_data(as_text=True))
    event = {e.uid.value: e for e in calendar.vevent_list}[f"{marked[0]}@t4t-platform"]
    assert event.status.value == "CANCELLED" and int(event.sequence.value) == 1


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_participants_feed_shows_the_sessions_of_a_cancelled_cohort_as_cancelled(
    sclient, scheduling_ctx, tokens, database
):
    cohort_id, _regs, sessions = arrange(sclient, scheduling_ctx, tokens)
    feed = sclient.post("/calendar-feeds", json={"kind": "participant"}, headers=auth(tokens, PARTICIPANT))
    assert feed.status_code == 201, feed.json
    path = urlsplit(feed.json["url"]).path
    uids = {f"{session_id}@t4t-platform" for session_id, _starts in sessions}
    assert {e.uid.value for e in vobject.readOne(sclient.get(path).get_data(as_text=True)).vevent_list} == uids

    cancel(sclient, tokens, f"/cohorts/{cohort_id}", "The host agency closed.")

    events = {e.uid.value: e for e in vobject.readOne(sclient.get(path).get_data(as_text=True)).vevent_list}
    assert set(events) == uids  # still there, so the participant's calendar removes them
    assert {e.status.value for e in events.values()} == {"CANCELLED"}
    assert {int(e.sequence.value) for e in events.values()} == {1}
