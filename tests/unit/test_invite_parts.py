"""Invites built from a change's shared part and each attendee's own lines: what calendars read is whole."""

from __future__ import annotations

from datetime import UTC, datetime

import vobject

from services.notifications.domain.invites import fold, invite

SESSION = {
    "session_id": "5b0f5d3e-0000-4000-8000-000000000001",
    "sequence": 3,
    "starts_at": "2026-12-10T17:00:00+00:00",
    "ends_at": "2026-12-10T20:00:00+00:00",
    "title": "Session 1: Relationship-based care",
    "place": {"venue": "Sacramento Training Center", "room": "Room 2"},
    "meeting_url": None,
    "registrant_ids": ["ana"],  # changes with every registration; not part of the invite
}


def test_each_attendee_gets_the_same_event_with_their_own_address_and_stamp():
    stamp = datetime(2026, 12, 5, 9, 20, 40, tzinfo=UTC)
    long_address = "maría.josé.de.la.cruz.hernández.rodríguez@departamento-de-educación.example.org"
    first = invite("REQUEST", [SESSION], attendee="ana@example.org", organizer="n@t4t.localhost", stamp=stamp)
    second = invite(
        "REQUEST",
        [{**SESSION, "registrant_ids": ["ana", "ben"]}],
        attendee=long_address,
        organizer="n@t4t.localhost",
        stamp=stamp,
    )
    for text, address in ((first, "ana@example.org"), (second, long_address)):
        assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
        calendar = vobject.readOne(text)  # an independent parser
        event = calendar.vevent
        assert calendar.method.value == "REQUEST"
        assert event.uid.value == f"{SESSION['session_id']}@t4t-platform"
        assert int(event.sequence.value) == 3
        assert event.dtstamp.value == stamp
        assert event.attendee.value == f"mailto:{address}"
        assert event.location.value == "Sacramento Training Center, Room 2"


def test_folding_keeps_characters_whole_and_unfolds_to_the_line():
    for n in range(0, 200, 3):
        line = "ATTENDEE:mailto:" + "é" * n + "x" * (n % 7)
        folded = fold(line)
        assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
        assert folded.replace("\r\n ", "") == line


def test_ascii_lines_fold_into_full_lines_of_74_octets_as_icalendar_writes_them():
    for n in range(0, 400, 7):
        line = "ATTENDEE;ROLE=REQ-PARTICIPANT:mailto:" + "a.b-c" * n
        parts = fold(line).split("\r\n")
        assert fold(line).replace("\r\n ", "") == line
        assert [len(p) for p in parts[:-1]] == [74, *[75] * (len(parts) - 2)][: len(parts) - 1]  # then a space and 74
        assert 0 < len(parts[-1]) <= 75
