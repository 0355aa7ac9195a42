"""Scheduling's pure rules alone: session times and zones, places by format, request decisions (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from services.scheduling.domain import sessions as rules
from services.scheduling.domain import training_requests as request_rules
from shared.errors import Conflict, InvalidInput

GUAM = timezone(timedelta(hours=10))


def errors_of(excinfo) -> dict:
    return excinfo.value.errors


# --- times --------------------------------------------------------------------------------------


def test_times_are_stored_in_utc():
    starts, ends = rules.check_times(datetime(2031, 3, 4, 9, 0, tzinfo=GUAM), datetime(2031, 3, 4, 11, 0, tzinfo=GUAM))
    assert (starts, ends) == (datetime(2031, 3, 3, 23, 0, tzinfo=UTC), datetime(2031, 3, 4, 1, 0, tzinfo=UTC))
    assert starts.tzinfo is UTC


@pytest.mark.parametrize(
    ("starts", "ends", "field"),
    [
        (datetime(2031, 3, 4, 9), datetime(2031, 3, 4, 11, tzinfo=UTC), "starts_at"),
        (datetime(2031, 3, 4, 9, tzinfo=UTC), datetime(2031, 3, 4, 11), "ends_at"),
        (datetime(2031, 3, 4, 9, tzinfo=UTC), datetime(2031, 3, 4, 8, tzinfo=UTC), "ends_at"),
        (datetime(2031, 3, 4, 9, tzinfo=UTC), datetime(2031, 3, 4, 9, tzinfo=UTC), "ends_at"),
        (datetime(2031, 3, 4, 9, tzinfo=UTC), datetime(2031, 3, 4, 21, 1, tzinfo=UTC), "ends_at"),
    ],
)
def test_bad_times_name_their_field(starts, ends, field):
    with pytest.raises(InvalidInput) as excinfo:
        rules.check_times(starts, ends)
    assert field in errors_of(excinfo)


def test_render_in_the_cohorts_zone_and_the_viewers():
    starts, ends = datetime(2031, 3, 3, 23, 0, tzinfo=UTC), datetime(2031, 3, 4, 1, 30, tzinfo=UTC)
    shown = rules.render_times(starts, ends, "Pacific/Guam", "America/New_York")
    assert shown["local_start"] == "2031-03-04T09:00:00+10:00"
    assert shown["local_end"] == "2031-03-04T11:30:00+10:00"
    assert shown["zone_abbreviation"] == "ChST"
    assert shown["viewer_start"] == "2031-03-03T18:00:00-05:00"
    assert shown["viewer_zone_abbreviation"] == "EST"
    assert (shown["starts_at"], shown["time_zone"]) == (starts, "Pacific/Guam")


def test_pago_pago_is_sst_and_the_same_zone_adds_no_viewer_times():
    starts = datetime(2031, 3, 4, 20, 0, tzinfo=UTC)
    shown = rules.render_times(starts, starts + timedelta(hours=2), "Pacific/Pago_Pago", "Pacific/Pago_Pago")
    assert shown["local_start"] == "2031-03-04T09:00:00-11:00"
    assert shown["zone_abbreviation"] == "SST"
    assert "viewer_start" not in shown


def test_local_time_follows_daylight_saving():
    summer = rules.render_times(
        datetime(2031, 7, 1, 16, tzinfo=UTC), datetime(2031, 7, 1, 18, tzinfo=UTC), "America/Los_Angeles"
    )
    winter = rules.render_times(
        datetime(2031, 12, 1, 17, tzinfo=UTC), datetime(2031, 12, 1, 19, tzinfo=UTC), "America/Los_Angeles"
    )
    assert (summer["local_start"], summer["zone_abbreviation"]) == ("2031-07-01T09:00:00-07:00", "PDT")
    assert (winter["local_start"], winter["zone_abbreviation"]) == ("2031-12-01T09:00:00-08:00", "PST")


def test_registration_closes_after_it_opens():
    opens = datetime(2031, 1, 1, tzinfo=UTC)
    rules.check_registration_window(opens, opens + timedelta(days=1))
    rules.check_registration_window(None, opens)
    with pytest.raises(InvalidInput) as excinfo:
        rules.check_registration_window(opens, opens)
    assert "registration_closes_at" in errors_of(excinfo)


# --- place, people, status ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("format_", "room_id", "meeting_url"),
    [
        ("in_person", "room-1", None),
        ("virtual", None, "https://meet.example.org/x"),
        ("hybrid", "room-1", "https://meet.example.org/x"),
    ],
)
def test_each_format_gets_its_place(format_, room_id, meeting_url):
    rules.check_room_or_link(format_, room_id=room_id, meeting_url=meeting_url)


@pytest.mark.parametrize(
    ("format_", "room_id", "meeting_url", "fields"),
    [
        ("in_person", None, None, {"room_id"}),
        ("in_person", "room-1", "https://meet.example.org/x", {"meeting_url"}),
        ("virtual", None, None, {"meeting_url"}),
        ("virtual", "room-1", "https://meet.example.org/x", {"room_id"}),
        ("hybrid", None, None, {"room_id", "meeting_url"}),
        ("hybrid", "room-1", None, {"meeting_url"}),
    ],
)
def test_a_missing_or_contradictory_place_names_its_fields(format_, room_id, meeting_url, fields):
    with pytest.raises(InvalidInput) as excinfo:
        rules.check_room_or_link(format_, room_id=room_id, meeting_url=meeting_url)
    assert set(errors_of(excinfo)) == fields


def test_facilitators_default_to_the_cohorts_once_each():
    assert rules.session_facilitators(None, ["a", "b"]) == ["a", "b"]
    assert rules.session_facilitators(["c", "c", "a"], ["a", "b"]) == ["c", "a"]
    assert rules.session_facilitators([], ["a"]) == []


def test_a_cancelled_session_cannot_change():
    rules.check_changeable(rules.SCHEDULED)
    with pytest.raises(Conflict):
        rules.check_changeable(rules.CANCELLED)


# --- training requests --------------------------------------------------------------------------


def test_a_submitted_request_is_decided_once():
    assert request_rules.decide("submitted", "approved") == "approved"
    assert request_rules.decide("submitted", "declined", "No funding this year.") == "declined"
    for status in ("approved", "declined"):
        with pytest.raises(Conflict):
            request_rules.decide(status, "approved")


@pytest.mark.parametrize("reason", [None, "", "  \n"])
def test_a_decline_says_why(reason):
    with pytest.raises(InvalidInput) as excinfo:
        request_rules.decide("submitted", "declined", reason)
    assert "reason" in errors_of(excinfo)


def test_windows_are_stored_as_iso_dates_and_end_after_they_start():
    stored = request_rules.check_windows([{"starts_on": date(2031, 1, 1), "ends_on": date(2031, 1, 1)}])
    assert stored == [{"starts_on": "2031-01-01", "ends_on": "2031-01-01"}]
    with pytest.raises(InvalidInput) as excinfo:
        request_rules.check_windows(
            [
                {"starts_on": date(2031, 1, 1), "ends_on": date(2031, 2, 1)},
                {"starts_on": date(2031, 3, 1), "ends_on": date(2031, 2, 1)},
            ]
        )
    assert errors_of(excinfo) == {"preferred_windows": {1: {"ends_on": ["Must be on or after starts_on."]}}}


def test_approved_cohort_defaults_come_from_the_request_and_jurisdiction():
    settings = request_rules.cohort_settings(
        {"title": "Guam cohort"}, expected_participants=18, default_time_zone="Pacific/Guam"
    )
    assert (settings["time_zone"], settings["capacity"], settings["completion_minimum"]) == ("Pacific/Guam", 18, 9)
    chosen = request_rules.cohort_settings(
        {"title": "T", "time_zone": "Pacific/Saipan", "capacity": 12, "facilitators": ["f", "f"]},
        expected_participants=18,
        default_time_zone="Pacific/Guam",
    )
    assert (chosen["time_zone"], chosen["capacity"], chosen["facilitators"]) == ("Pacific/Saipan", 12, ["f"])
    with pytest.raises(InvalidInput) as excinfo:
        request_rules.cohort_settings({"title": "T"}, expected_participants=5, default_time_zone=None)
    assert "time_zone" in errors_of(excinfo)
