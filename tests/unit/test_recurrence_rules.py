"""The recurrence rules alone: RRULE validation, expansion in the series' zone, splits, slots (no I/O)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.scheduling.domain import recurrence as rules
from shared.errors import Conflict, InvalidInput

LA = ZoneInfo("America/Los_Angeles")
NEW_YORK = ZoneInfo("America/New_York")
GUAM = ZoneInfo("Pacific/Guam")
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def field_of(error: InvalidInput) -> str:
    (field,) = error.errors
    return field


def expand(rule: str, local_start: datetime, zone: ZoneInfo, minutes: int = 60, **kw) -> list[rules.Occurrence]:
    return rules.occurrences(rules.normalize(rule, local_start, zone), local_start, zone, minutes, **kw)


# --- expansion in the series' zone -------------------------------------------------------------


@pytest.mark.parametrize(("zone", "summer_utc_hour", "winter_utc_hour"), [(LA, 17, 18), (NEW_YORK, 14, 15)])
def test_weekly_series_keeps_its_local_time_across_the_november_2026_change(zone, summer_utc_hour, winter_utc_hour):
    # Daylight saving ends on Sunday 1 November 2026 in the United States.
    starts = [o.starts_at for o in expand("FREQ=WEEKLY;BYDAY=TU;COUNT=4", datetime(2026, 10, 20, 10), zone)]

    assert [s.astimezone(zone).hour for s in starts] == [10, 10, 10, 10]
    assert [s.hour for s in starts] == [summer_utc_hour, summer_utc_hour, winter_utc_hour, winter_utc_hour]
    offsets = [s.astimezone(zone).utcoffset() for s in starts]
    assert offsets[1] - offsets[2] == timedelta(hours=1)
    assert [s.date().isoformat() for s in starts] == ["2026-10-20", "2026-10-27", "2026-11-03", "2026-11-10"]


def test_and_back_across_the_march_change():
    starts = [o.starts_at for o in expand("FREQ=WEEKLY;COUNT=3", datetime(2027, 3, 2, 9), NEW_YORK)]
    assert [s.hour for s in starts] == [14, 14, 13]  # EST, EST, then EDT from 14 March 2027


@pytest.mark.parametrize(
    ("zone", "utc_hour", "offset", "name"),
    [
        (GUAM, 0, timedelta(hours=10), "ChST"),
        (PAGO_PAGO, 21, timedelta(hours=-11), "SST"),
    ],
)
def test_zones_without_daylight_saving_keep_one_offset(zone, utc_hour, offset, name):
    starts = [o.starts_at for o in expand("FREQ=WEEKLY;BYDAY=TU;COUNT=30", datetime(2026, 9, 1, 10), zone)]

    assert len(starts) == 30
    assert {s.hour for s in starts} == {utc_hour}
    assert {s.astimezone(zone).utcoffset() for s in starts} == {offset}
    assert {s.astimezone(zone).tzname() for s in starts} == {name}
    assert {s.astimezone(zone).weekday() for s in starts} == {1}  # Tuesday there, whatever day it is in UTC


def test_a_local_time_skipped_by_the_spring_gap_takes_the_offset_before_it():
    # RFC 5545 3.3.5: 02:30 on 14 March 2027 does not exist in New York; it means 03:30 EDT.
    starts = [o.starts_at for o in expand("FREQ=DAILY;COUNT=3", datetime(2027, 3, 13, 2, 30), NEW_YORK)]
    assert starts == [utc(2027, 3, 13, 7, 30), utc(2027, 3, 14, 7, 30), utc(2027, 3, 15, 6, 30)]


def test_a_repeated_local_time_is_its_first_instance():
    starts = [o.starts_at for o in expand("FREQ=DAILY;COUNT=2", datetime(2027, 11, 6, 1, 30), NEW_YORK)]
    assert starts[1] == utc(2027, 11, 7, 5, 30)  # 01:30 EDT, not 01:30 EST an hour later


def test_last_friday_of_the_month():
    starts = expand("FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1;COUNT=3", datetime(2026, 10, 30, 12), LA)
    assert [o.starts_at.astimezone(LA).date().isoformat() for o in starts] == ["2026-10-30", "2026-11-27", "2026-12-25"]


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "hello",
        "BYDAY=TU;COUNT=3",
        "FREQ=SOMETIMES",
        "FREQ=HOURLY;COUNT=3",
        "FREQ=WEEKLY;COUNT=3;UNTIL=20261231T000000Z",
        "FREQ=WEEKLY;FREQ=DAILY",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=WEEKLY;BYDAY=1TU",
        "FREQ=MONTHLY;BYDAY=6TU",
        "FREQ=WEEKLY;COUNT=0",
        "FREQ=WEEKLY;COUNT=many",
        "FREQ=WEEKLY;BYHOUR=9,14",
        "FREQ=WEEKLY;BYMONTH=13",
        "FREQ=WEEKLY;INTERVAL=0",
        "FREQ=WEEKLY;UNTIL=tomorrow",
        "FREQ=WEEKLY;COLOR=RED",
        "FREQ=WEEKLY\nDTSTART:20261027T100000",
        "FREQ=WEEKLY;BYMONTHDAY=3",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    ],
)
def test_garbage_rules_are_refused_naming_rrule(garbage):
    with pytest.raises(InvalidInput) as refused:
        rules.normalize(garbage, datetime(2026, 10, 27, 10), LA)
    assert field_of(refused.value) == "rrule"


def test_a_rule_that_can_never_match_is_refused_quickly():
    started = time.perf_counter()
    with pytest.raises(InvalidInput):
        rules.normalize("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30,31;BYDAY=MO", datetime(2026, 10, 27, 10), LA)
    assert time.perf_counter() - started < 1.0


def test_an_open_rule_is_closed_at_the_horizon():
    rule = rules.normalize("FREQ=WEEKLY;BYDAY=TU", datetime(2026, 10, 27, 10), LA)
    assert rule == "FREQ=WEEKLY;UNTIL=20280427T170000Z;BYDAY=TU"
    starts = [o.starts_at for o in rules.occurrences(rule, datetime(2026, 10, 27, 10), LA, 60)]
    assert starts[-1] == utc(2028, 4, 25, 17)
    assert len(starts) == 79


@pytest.mark.parametrize(
    ("until", "stored"),
    [
        ("20261110", "20261111T075959Z"),  # a date: the end of that local day
        ("20261110T100000", "20261110T180000Z"),  # local wall time
        ("20261110T180000Z", "20261110T180000Z"),
    ],
)
def test_until_is_stored_in_utc(until, stored):
    rule = rules.normalize(f"rrule:freq=weekly;until={until}", datetime(2026, 10, 27, 10), LA)
    assert rule == f"FREQ=WEEKLY;UNTIL={stored}"
    assert len(rules.original_starts(rule, datetime(2026, 10, 27, 10), LA)) == 3


def test_a_rule_reaching_beyond_the_horizon_is_refused():
    with pytest.raises(InvalidInput) as refused:
        rules.normalize("FREQ=WEEKLY;COUNT=100", datetime(2026, 10, 27, 10), LA)
    assert "18 months" in refused.value.errors["rrule"][0]
    with pytest.raises(InvalidInput):
        rules.normalize("FREQ=WEEKLY;UNTIL=20300101T000000Z", datetime(2026, 10, 27, 10), LA)


def test_the_start_must_be_the_first_occurrence():
    with pytest.raises(InvalidInput) as refused:
        rules.normalize("FREQ=WEEKLY;BYDAY=TU;COUNT=3", datetime(2026, 10, 26, 10), LA)  # a Monday
    assert refused.value.errors["local_start"] == [
        "local_start must be the rule's first occurrence; the rule next occurs at 2026-10-27T10:00:00."
    ]


# --- changes -----------------------------------------------------------------------------------


@dataclass
class Change:
    original_start: datetime
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    cancelled: bool = False
    sequence: int = 1


def test_changes_move_and_cancel_single_occurrences():
    local_start = datetime(2026, 10, 27, 10)
    rule = rules.normalize("FREQ=WEEKLY;COUNT=4", local_start, LA)
    moved = Change(utc(2026, 11, 3, 18), utc(2026, 11, 4, 20), utc(2026, 11, 4, 21), sequence=2)
    cancelled = Change(utc(2026, 11, 10, 18), cancelled=True, sequence=3)
    stray = Change(utc(2026, 11, 11, 18), cancelled=True)

    result = rules.occurrences(rule, local_start, LA, 60, changes=[moved, cancelled, stray], sequence=3)

    assert [(o.status, o.sequence) for o in result] == [
        ("scheduled", 3),
        ("moved", 2),
        ("cancelled", 3),
        ("scheduled", 3),
    ]
    assert result[1].original_start == utc(2026, 11, 3, 18) and result[1].starts_at == utc(2026, 11, 4, 20)
    assert [o.original_start for o in rules.within(result, utc(2026, 11, 4), utc(2026, 11, 5))] == [
        utc(2026, 11, 3, 18)
    ]
    with pytest.raises(Conflict):
        rules.refuse_overlap(result, utc(2026, 11, 3, 18), utc(2026, 11, 17, 18, 30), utc(2026, 11, 17, 19, 30))
    rules.refuse_overlap(result, utc(2026, 11, 3, 18), utc(2026, 11, 10, 18), utc(2026, 11, 10, 19))  # cancelled


def test_split_ends_the_series_before_the_occurrence_and_keeps_the_rest_of_the_count():
    local_start = datetime(2026, 10, 27, 10)
    rule = rules.normalize("FREQ=WEEKLY;BYDAY=TU;COUNT=6", local_start, LA)
    before = rules.original_starts(rule, local_start, LA)

    cut = rules.split(rule, local_start, LA, before[3])

    assert cut.ended_rule == "FREQ=WEEKLY;UNTIL=20261117T175959Z;BYDAY=TU"
    assert cut.following_rule == "FREQ=WEEKLY;COUNT=3;BYDAY=TU"
    assert cut.following_local_start == datetime(2026, 11, 17, 10)
    after = rules.original_starts(cut.ended_rule, local_start, LA) + rules.original_starts(
        cut.following_rule, cut.following_local_start, LA
    )
    assert after == before


def test_split_needs_an_occurrence_after_the_first():
    local_start = datetime(2026, 10, 27, 10)
    rule = rules.normalize("FREQ=WEEKLY;COUNT=6", local_start, LA)
    for at in (utc(2026, 10, 27, 17), utc(2026, 11, 3, 17)):  # the first; an hour off the second
        with pytest.raises(InvalidInput) as refused:
            rules.split(rule, local_start, LA, at)
        assert field_of(refused.value) == "at"


# --- slots, overlaps, instants -----------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "slot", "count"), [(60, 20, 3), (50, 20, 2), (30, 30, 1)])
def test_an_occurrence_is_divided_into_whole_slots(minutes, slot, count):
    occurrence = rules.Occurrence(
        utc(2026, 12, 1, 18),
        utc(2026, 12, 1, 18),
        utc(2026, 12, 1, 18) + timedelta(minutes=minutes),
        rules.SCHEDULED,
        0,
    )
    found = rules.slots(occurrence, slot)
    assert len(found) == count
    assert found[0] == (utc(2026, 12, 1, 18), utc(2026, 12, 1, 18) + timedelta(minutes=slot))


def test_clashing_finds_busy_times_overlapping_any_interval():
    intervals = [(utc(2026, 12, d, 18), utc(2026, 12, d, 19)) for d in (1, 8, 15)]
    busy = [
        (utc(2026, 12, 1, 17), utc(2026, 12, 1, 18)),  # ends as the first starts
        (utc(2026, 12, 8, 18, 30), utc(2026, 12, 8, 20)),  # overlaps the second
        (utc(2026, 12, 10), utc(2026, 12, 20)),
    ]  # covers the third
    assert rules.clashing(busy, intervals, lambda b: b) == busy[1:]


@pytest.mark.parametrize("text", ["20261103T180000Z", "2026-11-03T18:00:00Z", "2026-11-03T10:00:00-08:00"])
def test_instants_in_urls(text):
    assert rules.parse_instant(text) == utc(2026, 11, 3, 18)


@pytest.mark.parametrize("text", ["2026-11-03T18:00:00", "yesterday"])
def test_instants_need_an_offset(text):
    with pytest.raises(InvalidInput):
        rules.parse_instant(text)
