"""Due dates at month ends and in leap years; a commitment's status as the clock moves (pure rules)."""

from datetime import UTC, date, datetime

import pytest

from services.coaching.domain import commitments as rules


@pytest.mark.parametrize(
    "completed,months,due",
    [
        (date(2026, 8, 31), 6, date(2027, 2, 28)),  # no 31 February: the month's last day
        (date(2027, 8, 31), 6, date(2028, 2, 29)),  # ... which is the 29th in a leap year
        (date(2028, 2, 29), 12, date(2029, 2, 28)),  # a leap day a year on
        (date(2028, 2, 29), 48, date(2032, 2, 29)),  # ... or four years on
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 3, 31), 6, date(2026, 9, 30)),
        (date(2026, 7, 15), 6, date(2027, 1, 15)),  # across the year's end
        (date(2026, 12, 31), 2, date(2027, 2, 28)),
        (date(2026, 5, 31), 1, date(2026, 6, 30)),
    ],
)
def test_the_due_date_is_completion_plus_the_time_frame_in_calendar_months(completed, months, due):
    assert rules.due_date(completed, months) == due


@pytest.mark.parametrize(
    "today,expected",
    [
        (date(2026, 12, 1), rules.ON_TRACK),
        (date(2027, 1, 28), rules.ON_TRACK),  # 31 days before
        (date(2027, 1, 29), rules.DUE_SOON),  # 30 days before
        (date(2027, 2, 28), rules.DUE_SOON),  # the due date itself
        (date(2027, 3, 1), rules.OVERDUE),
    ],
)
def test_status_follows_the_clock(today, expected):
    assert rules.status(date(2027, 2, 28), None, today) == expected


def test_a_fulfilled_commitment_stays_fulfilled_whatever_the_date():
    for today in (date(2026, 1, 1), date(2027, 2, 28), date(2030, 1, 1)):
        assert rules.status(date(2027, 2, 28), date(2027, 3, 15), today) == rules.FULFILLED


def test_reminders_come_at_30_and_7_days_then_overdue():
    due = date(2027, 2, 28)
    assert rules.reminders_due(due, None, date(2027, 1, 28)) == []
    assert rules.reminders_due(due, None, date(2027, 1, 29)) == ["due_soon_30"]
    assert rules.reminders_due(due, None, date(2027, 2, 21)) == ["due_soon_30", "due_soon_7"]
    assert rules.reminders_due(due, None, date(2027, 3, 1)) == ["overdue"]
    assert rules.reminders_due(due, date(2027, 2, 1), date(2027, 3, 1)) == []


def test_a_delivery_is_complete_when_every_live_session_is_held():
    held = datetime(2027, 1, 5, tzinfo=UTC)
    later = datetime(2027, 1, 12, tzinfo=UTC)
    sessions = [
        {"starts_at": held, "cancelled": False, "held_at": held},
        {"starts_at": later, "cancelled": False, "held_at": None},
        {"starts_at": later, "cancelled": True, "held_at": None},
    ]
    assert rules.delivery_progress(sessions) == {"scheduled": True, "first_held_at": held, "completed_at": None}
    sessions[1]["held_at"] = later
    assert rules.delivery_progress(sessions)["completed_at"] == later
    assert rules.delivery_progress([])["scheduled"] is False
