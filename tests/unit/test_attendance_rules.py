"""The attendance rules alone: minutes credited, the marking window, the completion rule and hours (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.scheduling.domain import attendance as rules
from shared.errors import Conflict, InvalidInput

START = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)


# --- minutes credited ---------------------------------------------------------------------------


def test_session_minutes():
    assert rules.session_minutes(START, START + timedelta(hours=2)) == 120
    assert rules.session_minutes(START, START + timedelta(minutes=90, seconds=59)) == 90


@pytest.mark.parametrize(
    ("status", "minutes", "credited"),
    [
        (rules.PRESENT, None, 120),
        (rules.PRESENT, 120, 120),
        (rules.ABSENT, None, 0),
        (rules.ABSENT, 0, 0),
        (rules.PARTIAL, 1, 1),
        (rules.PARTIAL, 75, 75),
        (rules.PARTIAL, 119, 119),
    ],
)
def test_minutes_credited(status, minutes, credited):
    assert rules.credited_minutes(status, minutes, 120) == credited


@pytest.mark.parametrize(
    ("status", "minutes", "field"),
    [
        (rules.PARTIAL, None, "minutes"),
        (rules.PARTIAL, 0, "minutes"),
        (rules.PARTIAL, 120, "minutes"),
        (rules.PARTIAL, 500, "minutes"),
        (rules.PRESENT, 60, "minutes"),
        (rules.ABSENT, 30, "minutes"),
        ("late", None, "status"),
    ],
)
def test_minutes_that_do_not_fit_the_mark_are_refused(status, minutes, field):
    with pytest.raises(InvalidInput) as caught:
        rules.credited_minutes(status, minutes, 120)
    assert field in caught.value.errors


def test_credit_records_reports_every_bad_record_by_index():
    records = [
        {"registration_id": "r1", "status": "present"},
        {"registration_id": "r2", "status": "partial"},
        {"registration_id": "ghost", "status": "present"},
        {"registration_id": "r3", "status": "absent"},
        {"registration_id": "r1", "status": "absent"},
    ]
    statuses = {"r1": "confirmed", "r2": "confirmed", "r3": "waitlisted"}
    with pytest.raises(InvalidInput) as caught:
        rules.credit_records(records, length=120, registration_status=statuses)
    errors = caught.value.errors["records"]
    assert set(errors) == {"1", "2", "3", "4"}
    assert "minutes" in errors["1"]
    assert "ghost" in errors["2"]["registration_id"][0]
    assert "waitlisted" in errors["3"]["registration_id"][0]
    assert "more than once" in errors["4"]["registration_id"][0]
    assert "ghost" in caught.value.detail


def test_credit_records_returns_the_minutes_in_order():
    records = [
        {"registration_id": "a", "status": "present"},
        {"registration_id": "b", "status": "partial", "minutes": 45},
        {"registration_id": "c", "status": "absent"},
    ]
    statuses = dict.fromkeys("abc", "confirmed")
    assert rules.credit_records(records, length=120, registration_status=statuses) == [120, 45, 0]


# --- the marking window ---------------------------------------------------------------------------


def markable(now, *, session_status="scheduled", cohort_status="open", opens=30):
    rules.check_markable(
        session_status=session_status,
        cohort_status=cohort_status,
        starts_at=START,
        now=now,
        opens_minutes=opens,
        opens_at_local="2026-03-03T08:30:00-08:00",
    )


def test_marking_opens_shortly_before_the_start():
    markable(START - timedelta(minutes=30))
    markable(START + timedelta(days=30))
    with pytest.raises(Conflict) as caught:
        markable(START - timedelta(minutes=31))
    assert "2026-03-03T08:30:00-08:00" in caught.value.detail
    assert caught.value.extra["opens_at"] == (START - timedelta(minutes=30)).isoformat()


def test_the_window_is_configurable():
    markable(START - timedelta(minutes=55), opens=60)
    with pytest.raises(Conflict):
        markable(START - timedelta(minutes=1), opens=0)


@pytest.mark.parametrize(("session_status", "cohort_status"), [("cancelled", "open"), ("scheduled", "cancelled")])
def test_cancelled_sessions_are_not_marked(session_status, cohort_status):
    with pytest.raises(Conflict) as caught:
        markable(START, session_status=session_status, cohort_status=cohort_status)
    assert "cancelled" in caught.value.detail


# --- completion ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attended", "minimum", "cancelled", "complete"),
    [
        (9, 9, 0, True),
        (8, 9, 0, False),
        (7, 7, 0, True),
        (6, 7, 0, False),
        (8, 9, 1, True),  # one session cancelled: the bar drops by one
        (3, 9, 0, False),  # three of the first three scheduled is not nine
        (1, 0, 0, True),  # a minimum below one still needs one session
        (0, 0, 0, False),
    ],
)
def test_completion_rule(attended, minimum, cancelled, complete):
    assert rules.completes(attended, minimum, cancelled) is complete


def test_attended_totals_count_present_and_partial():
    marks = [("present", 120), ("partial", 45), ("absent", 0), ("present", 120)]
    assert rules.attended_totals(marks) == (3, 285)


@pytest.mark.parametrize(
    ("minutes", "hours", "text"),
    [(1080, 18.0, "18"), (990, 16.5, "16.5"), (975, 16.25, "16.25"), (100, 1.67, "1.67"), (0, 0.0, "0")],
)
def test_hours(minutes, hours, text):
    assert rules.hours(minutes) == hours
    assert rules.format_hours(minutes) == text
