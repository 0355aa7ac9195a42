"""A facilitator's sessions: which ones to ask about, and how their attendance reads."""

from __future__ import annotations

from datetime import UTC, datetime

from services.portal.schedule import SUMMARIZED, attendance_state, to_summarize

NOW = datetime(2027, 3, 10, 12, tzinfo=UTC)


def session(number: int, day: int, status: str = "scheduled") -> dict:
    return {"id": f"s{number}", "starts_at": f"2027-03-{day:02d}T17:00:00+00:00", "status": status}


def test_only_begun_sessions_not_cancelled_are_asked_about_the_latest_first():
    sessions = [session(1, 1), session(2, 3, "cancelled"), session(3, 9), session(4, 10), session(5, 17)]
    # Session 4 starts at 17:00 on the 10th: later today, not begun at noon.
    assert to_summarize(sessions, NOW) == ["s3", "s1"]
    many = [session(n, 1 + n % 9) for n in range(SUMMARIZED + 20)]
    asked = to_summarize(many, NOW)
    assert len(asked) == SUMMARIZED and len(set(asked)) == SUMMARIZED


def test_attendance_reads_as_not_taken_partly_taken_or_taken():
    assert attendance_state(None) is None
    assert attendance_state({"marked": 0, "unmarked": 20}) == {"text": "Attendance not taken yet", "done": False}
    assert attendance_state({"marked": 18, "unmarked": 1}) == {
        "text": "Attendance partly taken: 18 marked, 1 person not yet",
        "done": False,
    }
    assert attendance_state({"marked": 17, "unmarked": 3})["text"].endswith("3 people not yet")
    assert attendance_state({"marked": 20, "unmarked": 0}) == {"text": "Attendance taken: 20 marked", "done": True}
    assert attendance_state({"marked": 0, "unmarked": 0})["done"] is True
