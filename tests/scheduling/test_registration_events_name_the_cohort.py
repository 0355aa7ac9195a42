"""Registration events name their cohort (title and time zone) and the person, so a notifier never calls scheduling back."""

from __future__ import annotations

import pytest

from services.scheduling.models import Cohort
from tests.scheduling.test_registrations import (
    ADMIN,
    BACKENDS,
    COORDINATOR,
    body_for,
    cancel,
    make_cohort,
    outbox_events,
    person,
    register,
    registered,
)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_every_registration_event_names_the_cohort(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=1)
    with scheduling_ctx.db.session() as session:
        cohort = session.get(Cohort, cohort_id)
        title, time_zone = cohort.title, cohort.time_zone
    seated = registered(sclient, tokens, cohort_id, person(1))  # self-registration: the hot path
    response = register(sclient, tokens, cohort_id, COORDINATOR, body_for(person(2), participant="p-2"))
    assert response.status_code == 201, response.get_data(as_text=True)  # on someone's behalf: the waitlist
    assert cancel(sclient, tokens, seated["id"], ADMIN).status_code == 200  # p-2 is promoted into the seat
    events = outbox_events(scheduling_ctx)
    assert [e.type.rsplit(".", 1)[1] for e in events] == ["confirmed", "waitlisted", "cancelled", "promoted"]
    assert title and time_zone
    assert {(e.data["cohort_title"], e.data["cohort_time_zone"]) for e in events} == {(title, time_zone)}
    # The person's name as registered, with every change of the registration: whose the address is.
    assert [(e.data["participant"], e.data["participant_name"]) for e in events] == [
        ("p-1", "P 1"),
        ("p-2", "P 2"),
        ("p-1", "P 1"),
        ("p-2", "P 2"),
    ]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_registration_events_say_when_the_name_and_email_were_given(sclient, tokens, scheduling_ctx, database):
    """Not when the registration last changed: a promotion or a cancellation gives no new address, so a
    notifier keeps the one a person gave last when they have two registrations."""
    cohort_id = make_cohort(scheduling_ctx, capacity=1)
    seated = registered(sclient, tokens, cohort_id, person(1))
    response = register(sclient, tokens, cohort_id, COORDINATOR, body_for(person(2), participant="p-2"))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert cancel(sclient, tokens, seated["id"], ADMIN).status_code == 200  # p-2 is promoted
    again = register(sclient, tokens, cohort_id, person(1), {**body_for(person(1)), "email": "p1@home.example.org"})
    assert again.status_code == 201, again.get_data(as_text=True)  # re-registering gives an address again
    confirmed, waitlisted, cancelled, promoted, back = outbox_events(scheduling_ctx)
    assert [e.type.rsplit(".", 1)[1] for e in (confirmed, waitlisted, cancelled, promoted, back)] == [
        "confirmed",
        "waitlisted",
        "cancelled",
        "promoted",
        "waitlisted",
    ]
    given = [e.data["contact_given_at"] for e in (confirmed, waitlisted, cancelled, promoted, back)]
    assert all(given)
    assert given[2] == given[0]  # the cancellation carries the time p-1 gave it, not its own
    assert given[3] == given[1]  # the promotion the time p-2 was registered
    assert given[0] < given[1] < given[4]
    assert back.data["email"] == "p1@home.example.org"


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_registration_says_the_language_the_person_reads_e_mails_in(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=5)
    spanish = register(sclient, tokens, cohort_id, person(1), {**body_for(person(1)), "language": "es"})
    assert spanish.status_code == 201 and spanish.json["language"] == "es"
    unsaid = register(sclient, tokens, cohort_id, person(2))
    assert unsaid.status_code == 201 and unsaid.json["language"] is None
    french = register(sclient, tokens, cohort_id, person(3), {**body_for(person(3)), "language": "fr"})
    assert french.status_code == 422 and french.content_type == "application/problem+json"
    assert "language" in french.json["errors"]
    events = outbox_events(scheduling_ctx)
    assert [(e.data["participant"], e.data["participant_language"]) for e in events] == [("p-1", "es"), ("p-2", None)]
