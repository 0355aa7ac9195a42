"""Recurrence rules: RFC 5545 RRULE validation, expansion in a series' own zone, splits and office-hour slots."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import TypeVar
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr

from shared.errors import Conflict, InvalidInput

# Every stored rule ends within this long of its first occurrence, so expanding, booking and
# rendering a series is always bounded; a longer programme continues as a split or a new series.
HORIZON = relativedelta(months=18)
HORIZON_TEXT = "18 months"
MAX_COUNT = 1000

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
PART_ORDER = (
    "FREQ",
    "UNTIL",
    "COUNT",
    "INTERVAL",
    "BYMONTH",
    "BYWEEKNO",
    "BYYEARDAY",
    "BYMONTHDAY",
    "BYDAY",
    "BYSETPOS",
    "WKST",
)
TIME_OF_DAY_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
# name -> (largest absolute value, whether negative values count from the end)
INTEGER_LISTS = {
    "BYMONTH": (12, False),
    "BYWEEKNO": (53, True),
    "BYYEARDAY": (366, True),
    "BYMONTHDAY": (31, True),
    "BYSETPOS": (366, True),
}
_BYDAY = re.compile(r"^([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_INTEGER = re.compile(r"^[+-]?[0-9]{1,4}$")

OFFICE_HOURS = "office_hours"
COMMUNITY_CALL = "community_call"
MEETING = "meeting"
KINDS = (OFFICE_HOURS, COMMUNITY_CALL, MEETING)

SCHEDULED = "scheduled"
MOVED = "moved"
CANCELLED = "cancelled"

# dateutil walks period by period until year 9999 looking for a match when a rule can never match
# (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 takes seconds). The Gregorian calendar repeats exactly every
# 400 years, weekdays included, so rules are expanded in a copy of the calendar moved close to
# year 9999: the same occurrences come out, and a rule that never matches gives up within 400 years.
_CYCLE_YEARS = 400
_LATEST_SHIFTED_YEAR = 9997  # leaves room for the horizon before datetime.MAXYEAR


def _invalid(message: str, field: str = "rrule") -> InvalidInput:
    title = "The recurrence rule is not valid." if field == "rrule" else f"The {field} is not valid."
    return InvalidInput(title, errors={field: [message]})


# --- time --------------------------------------------------------------------------------------


def localize(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive wall time in ``zone``.

    ``fold=0`` gives RFC 5545's reading: a repeated local time is its first instance, and a local
    time skipped by a daylight-saving gap takes the offset from before the gap (02:30 becomes 03:30).
    """
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def wall_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """The naive local wall time of an instant in ``zone``."""
    return moment.astimezone(zone).replace(tzinfo=None)


def parse_local(text: str) -> datetime:
    """A stored naive local start ("YYYY-MM-DDTHH:MM:SS")."""
    return datetime.fromisoformat(text)


def format_local(wall: datetime) -> str:
    return wall.replace(microsecond=0, tzinfo=None).isoformat(timespec="seconds")


def parse_instant(text: str, *, field: str = "original_start") -> datetime:
    """An instant from a URL: ISO 8601 with an offset, or RFC 5545's UTC form (20261103T180000Z)."""
    value = text.strip()
    try:
        if re.fullmatch(r"[0-9]{8}T[0-9]{6}Z", value):
            moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise _invalid("Give the instant with an offset or Z.", field)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _invalid(f"{text!r} is not a date-time such as 2026-11-03T18:00:00Z.", field) from None


def _utc_basic(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


# --- rules -------------------------------------------------------------------------------------


def parse(text: str) -> dict[str, str]:
    """The parts of an RRULE value (``FREQ=WEEKLY;BYDAY=TU;COUNT=12``), checked against RFC 5545.

    Raises InvalidInput naming ``rrule`` for anything a calendar would reject or misread.
    """
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    if not body:
        raise _invalid("Give a rule such as FREQ=WEEKLY;BYDAY=TU;COUNT=12.")
    if any(character in body for character in "\r\n:"):
        raise _invalid("Give one RRULE value only, such as FREQ=WEEKLY;BYDAY=TU;COUNT=12.")
    parts: dict[str, str] = {}
    for item in body.split(";"):
        name, sep, value = item.partition("=")
        name, value = name.strip().upper(), value.strip().upper()
        if not sep or not name or not value:
            raise _invalid(f"{item.strip()!r} is not NAME=VALUE.")
        if name in TIME_OF_DAY_PARTS:
            raise _invalid(f"{name} is not supported: the time of day comes from local_start.")
        if name not in PART_ORDER:
            raise _invalid(f"Unknown rule part {name}.")
        if name in parts:
            raise _invalid(f"{name} is given twice.")
        parts[name] = value
    _check_parts(parts)
    return parts


def _check_parts(parts: dict[str, str]) -> None:
    freq = parts.get("FREQ")
    if freq is None:
        raise _invalid("FREQ is required.")
    if freq not in FREQUENCIES:
        raise _invalid(f"FREQ must be one of {', '.join(FREQUENCIES)}; meetings recur at most daily.")
    if "COUNT" in parts and "UNTIL" in parts:
        raise _invalid("Give COUNT or UNTIL, not both (RFC 5545).")
    if "COUNT" in parts:
        _bounded_int(parts["COUNT"], "COUNT", 1, MAX_COUNT)
    if "INTERVAL" in parts:
        _bounded_int(parts["INTERVAL"], "INTERVAL", 1, 999)
    for name, (largest, signed) in INTEGER_LISTS.items():
        for value in _items(parts, name):
            if not _INTEGER.match(value):
                raise _invalid(f"{name} takes whole numbers, not {value!r}.")
            number = int(value)
            if number == 0 or abs(number) > largest or (number < 0 and not signed):
                limits = f"-{largest}..-1 or 1..{largest}" if signed else f"1..{largest}"
                raise _invalid(f"{name} values are {limits}, not {value}.")
    ordinal_limit = 5 if freq == "MONTHLY" or (freq == "YEARLY" and "BYMONTH" in parts) else 53
    for value in _items(parts, "BYDAY"):
        match = _BYDAY.match(value)
        if not match:
            raise _invalid(f"BYDAY takes days such as MO, TU or 2TH, not {value!r}.")
        if match.group(1):
            ordinal = int(match.group(1))
            if freq not in ("MONTHLY", "YEARLY") or "BYWEEKNO" in parts:
                raise _invalid("A numbered BYDAY (such as 2TU) needs FREQ=MONTHLY or FREQ=YEARLY.")
            if ordinal == 0 or abs(ordinal) > ordinal_limit:
                raise _invalid(f"{value}: the number must be between 1 and {ordinal_limit} (or negative).")
    if "WKST" in parts and parts["WKST"] not in WEEKDAYS:
        raise _invalid(f"WKST must be one of {', '.join(WEEKDAYS)}.")
    if "BYWEEKNO" in parts and freq != "YEARLY":
        raise _invalid("BYWEEKNO needs FREQ=YEARLY.")
    if "BYYEARDAY" in parts and freq != "YEARLY":
        raise _invalid("BYYEARDAY needs FREQ=YEARLY.")
    if "BYMONTHDAY" in parts and freq == "WEEKLY":
        raise _invalid("BYMONTHDAY cannot be used with FREQ=WEEKLY.")


def _items(parts: dict[str, str], name: str) -> list[str]:
    return [value.strip() for value in parts[name].split(",")] if name in parts else []


def _bounded_int(value: str, name: str, low: int, high: int) -> int:
    if not re.fullmatch(r"[0-9]{1,6}", value) or not low <= int(value) <= high:
        raise _invalid(f"{name} must be a whole number from {low} to {high}.")
    return int(value)


def text(parts: dict[str, str]) -> str:
    """The canonical RRULE value: FREQ first, then the other parts in RFC 5545's order."""
    return ";".join(f"{name}={parts[name]}" for name in PART_ORDER if name in parts)


def _until_instant(value: str, zone: ZoneInfo) -> datetime:
    """UNTIL as an instant: UTC (…Z), a local date-time, or a date meaning the end of that local day."""
    try:
        if re.fullmatch(r"[0-9]{8}T[0-9]{6}Z", value):
            return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if re.fullmatch(r"[0-9]{8}T[0-9]{6}", value):
            return localize(datetime.strptime(value, "%Y%m%dT%H%M%S"), zone)
        if re.fullmatch(r"[0-9]{8}", value):
            return localize(datetime.strptime(value, "%Y%m%d").replace(hour=23, minute=59, second=59), zone)
    except (ValueError, OverflowError):
        pass
    raise _invalid(f"UNTIL must be a date (20261231) or a date-time (20261231T235959Z), not {value!r}.")


def _shift_years(year: int) -> int:
    return ((_LATEST_SHIFTED_YEAR - year) // _CYCLE_YEARS) * _CYCLE_YEARS


def _plus_years(wall: datetime, years: int) -> datetime:
    # A whole number of 400-year cycles keeps every date valid, 29 February included.
    return wall.replace(year=wall.year + years)


def _local_starts(parts: dict[str, str], local_start: datetime, zone: ZoneInfo) -> Iterator[datetime]:
    """The naive local wall times of a rule's occurrences, in order (expanded as wall time, so
    10:00 stays 10:00 across daylight-saving changes)."""
    shift = _shift_years(local_start.year)
    shifted = dict(parts)
    if "UNTIL" in parts:
        until = wall_time(_until_instant(parts["UNTIL"], zone), zone)
        if until.year + shift > 9999:
            raise _invalid(f"UNTIL must be within {HORIZON_TEXT} of local_start.")
        shifted["UNTIL"] = _plus_years(until, shift).strftime("%Y%m%dT%H%M%S")
    try:
        rule = rrulestr(text(shifted), dtstart=_plus_years(local_start, shift))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise _invalid(f"Not a valid recurrence rule: {exc}.") from None
    for wall in rule:
        yield _plus_years(wall, -shift)


def normalize(rule_text: str, local_start: datetime, zone: ZoneInfo) -> str:
    """Validate a rule for a series starting at ``local_start`` (wall time in ``zone``) and return it
    in the form stored and published: UNTIL in UTC, and an open-ended rule closed at the horizon.

    The first occurrence must be ``local_start`` itself (RFC 5545 leaves a DTSTART that the rule does
    not produce undefined, and calendar clients disagree about it).
    """
    parts = parse(rule_text)
    if not 1900 <= local_start.year <= 2999:
        raise _invalid("Give a start between the years 1900 and 2999.", "local_start")
    first = localize(local_start, zone)
    horizon_end = local_start + HORIZON
    latest = localize(horizon_end, zone)
    if "UNTIL" in parts:
        until = _until_instant(parts["UNTIL"], zone)
        if until < first:
            raise _invalid("UNTIL is before local_start.")
        if until > latest:
            raise _invalid(f"UNTIL must be within {HORIZON_TEXT} of local_start; continue with another series.")
        parts["UNTIL"] = _utc_basic(until)
    elif "COUNT" not in parts:
        parts["UNTIL"] = _utc_basic(latest)
    try:
        walls = list(islice(_local_starts(parts, local_start, zone), MAX_COUNT + 1))
    except (ValueError, OverflowError) as exc:
        raise _invalid(f"Not a valid recurrence rule: {exc}.") from None
    if not walls:
        raise _invalid("This rule produces no occurrence.")
    if walls[0] != local_start:
        raise _invalid(
            f"local_start must be the rule's first occurrence; the rule next occurs at {format_local(walls[0])}.",
            "local_start",
        )
    if walls[-1] > horizon_end:
        raise _invalid(f"The occurrences must end within {HORIZON_TEXT} of local_start; lower COUNT.")
    return text(parts)


# --- occurrences -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a series, with its change applied; ``original_start`` is its RECURRENCE-ID."""

    original_start: datetime
    starts_at: datetime
    ends_at: datetime
    status: str
    sequence: int

    @property
    def active(self) -> bool:
        return self.status != CANCELLED


def original_starts(rule: str, local_start: datetime, zone: ZoneInfo) -> list[datetime]:
    """The UTC starts the rule produces, before any change."""
    return [localize(wall, zone) for wall in _local_starts(parse(rule), local_start, zone)]


def occurrences(
    rule: str,
    local_start: datetime,
    zone: ZoneInfo,
    duration_minutes: int,
    *,
    changes: Iterable = (),
    sequence: int = 0,
) -> list[Occurrence]:
    """Every occurrence in order of start, moved or cancelled by ``changes``.

    ``changes`` are objects with ``original_start``, ``starts_at``, ``ends_at``, ``cancelled`` and
    ``sequence`` (the stored overrides); a change that matches no occurrence of the rule is ignored.
    """
    by_start = {change.original_start: change for change in changes}
    duration = timedelta(minutes=duration_minutes)
    result = []
    for start in original_starts(rule, local_start, zone):
        change = by_start.get(start)
        if change is None:
            result.append(Occurrence(start, start, start + duration, SCHEDULED, sequence))
        elif change.cancelled:
            result.append(Occurrence(start, start, start + duration, CANCELLED, change.sequence))
        else:
            result.append(Occurrence(start, change.starts_at, change.ends_at, MOVED, change.sequence))
    result.sort(key=lambda o: (o.starts_at, o.original_start))
    return result


def within(items: Iterable[Occurrence], start: datetime | None, end: datetime | None) -> list[Occurrence]:
    """The occurrences overlapping [start, end); an open side is unbounded."""
    return [o for o in items if (start is None or o.ends_at > start) and (end is None or o.starts_at < end)]


def find(items: Iterable[Occurrence], original_start: datetime) -> Occurrence | None:
    return next((o for o in items if o.original_start == original_start), None)


def refuse_overlap(
    items: Iterable[Occurrence], original_start: datetime, starts_at: datetime, ends_at: datetime
) -> None:
    """A moved occurrence must not overlap another occurrence of its own series."""
    for other in items:
        if (
            other.active
            and other.original_start != original_start
            and other.starts_at < ends_at
            and other.ends_at > starts_at
        ):
            raise Conflict(
                "The series already has an occurrence at that time.",
                errors={
                    "starts_at": [
                        f"Overlaps the occurrence from {other.starts_at.isoformat()} to {other.ends_at.isoformat()}."
                    ]
                },
            )


def check_window(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise _invalid("to must be after from.", "to")


# --- this and following ------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """A series cut at an occurrence: the rule that ends before it, and the rest from it on."""

    ended_rule: str
    following_rule: str
    following_local_start: datetime


def split(rule: str, local_start: datetime, zone: ZoneInfo, at: datetime) -> Split:
    """Cut the series at the occurrence originally starting ``at`` (UTC).

    The original keeps the occurrences before ``at`` (UNTIL one second before it; COUNT becomes
    UNTIL, as RFC 5545 allows only one of them); the following rule keeps the rest of the COUNT.
    """
    parts = parse(rule)
    starts = original_starts(rule, local_start, zone)
    if at not in starts:
        raise _invalid(f"No occurrence of this series originally starts at {at.isoformat()}.", "at")
    index = starts.index(at)
    if index == 0:
        raise _invalid("This is the first occurrence: change the whole series instead of splitting it.", "at")
    ended = {name: value for name, value in parts.items() if name != "COUNT"}
    ended["UNTIL"] = _utc_basic(at - timedelta(seconds=1))
    following = dict(parts)
    if "COUNT" in parts:
        following["COUNT"] = str(int(parts["COUNT"]) - index)
    return Split(text(ended), text(following), wall_time(at, zone))


# --- office-hour slots -------------------------------------------------------------------------


def slots(occurrence: Occurrence, slot_minutes: int) -> list[tuple[datetime, datetime]]:
    """The bookable slots of an occurrence; a remainder shorter than a slot is not offered."""
    step = timedelta(minutes=slot_minutes)
    count = (occurrence.ends_at - occurrence.starts_at) // step
    return [(occurrence.starts_at + i * step, occurrence.starts_at + (i + 1) * step) for i in range(count)]


def check_slot_size(slot_minutes: int | None, duration_minutes: int) -> None:
    if slot_minutes is None:
        raise _invalid("Office hours need slot_minutes.", "slot_minutes")
    if slot_minutes > duration_minutes:
        raise _invalid("A slot cannot be longer than the occurrence.", "slot_minutes")


# --- overlaps ----------------------------------------------------------------------------------

T = TypeVar("T")


def clashing(
    busy: Iterable[T], intervals: Sequence[tuple[datetime, datetime]], span: Callable[[T], tuple[datetime, datetime]]
) -> list[T]:
    """The items of ``busy`` that overlap any of ``intervals`` (sorted by start), by bisection."""
    if not intervals:
        return []
    starts = [start for start, _ in intervals]
    longest = max(end - start for start, end in intervals)
    found = []
    for item in busy:
        item_start, item_end = span(item)
        index = bisect.bisect_left(starts, item_end) - 1
        while index >= 0 and intervals[index][0] > item_start - longest:
            if intervals[index][1] > item_start:
                found.append(item)
                break
            index -= 1
    return found
