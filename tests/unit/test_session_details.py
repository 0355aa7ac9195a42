"""What a notification says of a session: its times in the person's zone, the session's own, and the time it had."""

from services.notifications.domain.when import session_details

SESSION = {
    "title": "Session 3: Responsive routines",
    "starts_at": "2027-02-02T17:00:00+00:00",
    "ends_at": "2027-02-02T20:00:00+00:00",
    "time_zone": "America/Los_Angeles",
    "place": {
        "venue": "Sacramento Training Center",
        "room": "B",
        "address": "1 Capitol Mall",
        "accessibility": "Step-free",
    },
    "meeting_url": None,
}


def test_a_person_in_the_sessions_zone_reads_one_time_and_the_place():
    details = session_details(SESSION, "America/Los_Angeles", "en")
    assert details["when"] == "Tuesday, February 2, 2027, 9:00 AM – 12:00 PM PST"
    assert details["when_there"] is None
    assert details["was"] is None
    assert details["place"] == "Sacramento Training Center, B, 1 Capitol Mall"
    assert details["accessibility"] == "Step-free"


def test_a_person_elsewhere_reads_their_time_and_the_sessions():
    details = session_details(SESSION, "America/New_York", "en")
    assert details["when"] == "Tuesday, February 2, 2027, 12:00 PM – 3:00 PM EST"
    assert details["when_there"] == "Tuesday, February 2, 2027, 9:00 AM – 12:00 PM PST"


def test_a_rescheduled_session_says_when_it_was_in_the_persons_zone_and_language():
    moved = {**SESSION, "previous_starts_at": "2027-01-26T17:00:00+00:00"}
    details = session_details(moved, None, "es")
    # No zone of their own: the session's; the earlier start lasts as long as the session does.
    assert details["was"].startswith("martes")
    assert "26" in details["was"] and "enero" in details["was"]
    assert details["when_there"] is None
