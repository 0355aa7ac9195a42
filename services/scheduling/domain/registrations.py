"""Registration rules: the seat decision, waitlist order, promotions, approval, and roster CSV validation."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from marshmallow import ValidationError
from marshmallow.validate import Email

from shared.errors import Conflict, DomainError, InvalidInput
from shared.text import TextRefused, clean_text, is_blank

PENDING = "pending_approval"
CONFIRMED = "confirmed"
WAITLISTED = "waitlisted"
CANCELLED = "cancelled"
STATUSES = (PENDING, CONFIRMED, WAITLISTED, CANCELLED)
ACTIVE = (PENDING, CONFIRMED, WAITLISTED)

SELF, COORDINATOR, ROSTER = "self", "coordinator", "roster"

# Cohort statuses that take no new registrations (the cohort API owns the lifecycle; any other status is open).
CLOSED_COHORT_STATUSES = frozenset({"cancelled", "closed", "completed"})


# --- seats and the waitlist ---------------------------------------------------------------------


def newcomer_admitted(waitlist_position: int | None) -> tuple[str, int | None]:
    """What happens when someone joins a cohort, full or not: their status and waitlist position.

    The rule: a newcomer takes a free seat only while nobody is waiting (people waiting go first);
    otherwise the next spot on the waitlist, numbered in the order people joined, so that a
    promotion renumbers nobody. The repository carries it out in one atomic claim
    (``repository.seats.claim_seat_else_waitlist_spot``) and reports what the claim gave: no
    waitlist position for a seat, else the waitlist spot's number. Every path that admits a
    newcomer (a registration, an approval, a roster row, a batch of arrivals) decides here.
    """
    if waitlist_position is None:
        return CONFIRMED, None
    return WAITLISTED, waitlist_position


def seats_free(capacity: int, confirmed: int) -> int:
    return max(capacity - confirmed, 0)


def to_promote(*, free: int, waitlist: Iterable[tuple[int, str]]) -> list[str]:
    """The ids to promote into ``free`` seats: lowest waitlist position first.

    ``waitlist`` holds ``(position, registration id)`` of the waitlisted registrations, in any order.
    Positions only grow (each is handed out once), so this is the order people joined the waitlist.
    """
    if free <= 0:
        return []
    return [registration_id for _position, registration_id in sorted(waitlist)[:free]]


def check_capacity(capacity: int, confirmed: int) -> None:
    """A cohort's capacity never drops below the seats already confirmed."""
    if capacity < confirmed:
        raise Conflict(
            f"{confirmed} participants are confirmed; cancel registrations before lowering the capacity below that.",
            errors={"capacity": [f"At least {confirmed} (the confirmed registrations)."]},
        )


# --- when and how one may register -------------------------------------------------------------


def check_open(cohort_status: str) -> None:
    if cohort_status in CLOSED_COHORT_STATUSES:
        raise Conflict(
            f"The cohort is {cohort_status}; it takes no registrations.", errors={"cohort": [f"Is {cohort_status}."]}
        )


def check_window(now: datetime, opens_at: datetime | None, closes_at: datetime | None) -> None:
    """Self-registration happens within the cohort's registration window, when it has one."""
    if opens_at is not None and now < opens_at:
        raise Conflict(
            "Registration for this cohort has not opened yet.",
            errors={"registration_opens_at": [f"Registration opens at {opens_at.isoformat()}."]},
            registration_opens_at=opens_at.isoformat(),
            registration_closes_at=closes_at.isoformat() if closes_at else None,
        )
    if closes_at is not None and now >= closes_at:
        raise Conflict(
            "Registration for this cohort has closed.",
            errors={"registration_closes_at": [f"Registration closed at {closes_at.isoformat()}."]},
            registration_opens_at=opens_at.isoformat() if opens_at else None,
            registration_closes_at=closes_at.isoformat(),
        )


def check_not_registered(status: str | None) -> None:
    """One live registration per person and cohort; a cancelled one may be taken up again."""
    if status is not None and status != CANCELLED:
        raise Conflict(
            f"This participant is already registered for the cohort ({status}).",
            errors={"participant": [f"Already registered ({status})."]},
        )


def check_cancellable(status: str) -> None:
    if status == CANCELLED:
        raise Conflict("The registration is already cancelled.", errors={"status": ["Is cancelled."]})


def check_pending(status: str) -> None:
    """Only a registration waiting for approval is approved or declined."""
    if status != PENDING:
        raise Conflict(
            f"Only a registration pending approval can be approved or declined; this one is {status}.",
            errors={"status": [f"Is {status}, not {PENDING}."]},
        )


# --- roster CSV ---------------------------------------------------------------------------------

ROSTER_COLUMNS = ("participant_id", "name", "email", "registry_id", "language")
# The languages the platform's e-mails are written in; a roster's ``language`` cell, when given, is one.
EMAIL_LANGUAGES = ("en", "es")
REQUIRED_COLUMNS = ("participant_id", "name", "email")
MAX_ROSTER_ROWS = 5000
CSV_MEDIA_TYPES = frozenset({"text/csv", "application/csv", "text/x-csv", "text/comma-separated-values"})
# What Windows browsers declare for a .csv when a spreadsheet program is installed.
CSV_BY_EXTENSION_ONLY = frozenset({"application/vnd.ms-excel", "text/plain", "application/octet-stream"})
_LIMITS = {"participant_id": 200, "name": 300, "email": 320, "registry_id": 100}
_EMAIL = Email()


class NotCsv(DomainError):
    """The uploaded file is not CSV text."""

    status, title = 415, "Unsupported Media Type"


class RosterTooLarge(DomainError):
    status, title = 413, "Content Too Large"


@dataclass(frozen=True)
class RosterRow:
    line: int
    participant_id: str
    name: str
    email: str
    registry_id: str | None
    language: str | None = None


@dataclass
class Roster:
    """A parsed roster: the valid rows, the rejected ones with their reasons, and ignored columns."""

    rows: list[RosterRow] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    count: int = 0  # data records read (blank lines are not records)


def check_roster_type(media_type: str | None, filename: str | None) -> None:
    """A roster is declared CSV (or, as some browsers send it, a ``.csv`` of a generic type)."""
    declared = (media_type or "").split(";", 1)[0].strip().lower()
    if declared in CSV_MEDIA_TYPES:
        return
    if declared in CSV_BY_EXTENSION_ONLY and (filename or "").lower().endswith(".csv"):
        return
    raise NotCsv(
        f"A roster is a CSV file (text/csv); this part is {declared or 'untyped'}.",
        errors={"file": ["Send a text/csv file."]},
    )


def check_roster_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise RosterTooLarge(
            f"The roster is larger than the limit of {max_bytes} bytes.",
            errors={"file": [f"At most {max_bytes} bytes."]},
        )


def decode_roster(data: bytes) -> str:
    """The file's text: UTF-8 (a spreadsheet's byte-order mark is dropped); binary content is not CSV."""
    if b"\x00" in data:
        raise NotCsv("The file holds binary data, not CSV text.", errors={"file": ["Not CSV text."]})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotCsv(
            "The file is not UTF-8 text; export the roster as CSV UTF-8.",
            errors={"file": [f"Not UTF-8 (byte {exc.start})."]},
        ) from None


def _header(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """The normalised column names and the ignored ones; InvalidInput if the header is unusable."""
    columns = [name.strip().lower() for name in names]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise InvalidInput(
            "The first line must be a header naming the roster's columns.",
            errors={
                "file": [
                    f"Header is missing column {name!r} (columns: {', '.join(ROSTER_COLUMNS)})." for name in missing
                ]
            },
        )
    repeated = sorted({name for name in columns if name in ROSTER_COLUMNS and columns.count(name) > 1})
    if repeated:
        raise InvalidInput(
            "A header names each column once.",
            errors={"file": [f"Column {name!r} appears more than once." for name in repeated]},
        )
    # Unknown columns are ignored, and reported: state exports carry extra columns (phone, county…)
    # that a coordinator should not have to delete by hand.
    ignored = [names[i].strip() for i, name in enumerate(columns) if name not in ROSTER_COLUMNS]
    return columns, ignored


def _check_row(values: dict[str, str]) -> dict[str, list[str]]:
    """The row's problems by column; its cells are held to the text rules of every other door."""
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        try:
            values[name] = clean_text(value)
        except TextRefused as exc:
            errors.setdefault(name, []).append(str(exc))
    for name in REQUIRED_COLUMNS:
        if is_blank(values.get(name) or "") and name not in errors:
            errors.setdefault(name, []).append("Required.")
    for name, limit in _LIMITS.items():
        if len(values.get(name) or "") > limit:
            errors.setdefault(name, []).append(f"At most {limit} characters.")
    if "language" not in errors:
        values["language"] = (values.get("language") or "").strip().lower()  # kept so: the row reads it
        if values["language"] and values["language"] not in EMAIL_LANGUAGES:
            errors["language"] = [f"One of {', '.join(EMAIL_LANGUAGES)}, or empty."]
    email = values.get("email")
    if email and "email" not in errors:
        try:
            _EMAIL(email)
        except ValidationError:
            errors["email"] = ["Not a valid email address."]
    return errors


def parse_roster(text: str) -> Roster:
    """Validate a roster row by row: good rows to register, bad rows with per-column reasons.

    Line numbers are the file's, counting the header as line 1; a quoted field spanning lines is
    reported at the line where its record starts. A participant listed twice is rejected the
    second time. A problem with the file as a whole (no header, unreadable CSV, too many rows) is an
    InvalidInput: nothing of such a file is imported.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    roster = Roster()
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)  # leading blank lines
        if header is None:
            raise InvalidInput(
                "The roster is empty; it needs a header line and a line per participant.",
                errors={"file": ["Empty file."]},
            )
        columns, roster.ignored_columns = _header(header)
        seen: dict[str, int] = {}
        start = reader.line_num + 1
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            roster.count += 1
            if roster.count > MAX_ROSTER_ROWS:
                raise InvalidInput(
                    f"A roster has at most {MAX_ROSTER_ROWS} participants; split the file.",
                    errors={"file": [f"More than {MAX_ROSTER_ROWS} rows."]},
                )
            if len(record) > len(columns):
                roster.rejected.append(
                    {
                        "line": line,
                        "errors": {"row": [f"{len(record)} fields, but the header has {len(columns)} columns."]},
                    }
                )
                continue
            values = {
                name: record[i].strip() if i < len(record) else ""
                for i, name in enumerate(columns)
                if name in ROSTER_COLUMNS
            }
            errors = _check_row(values)
            participant = values.get("participant_id")
            if not errors and participant in seen:
                errors["participant_id"] = [f"Listed already on line {seen[participant]}."]
            if errors:
                roster.rejected.append({"line": line, "errors": errors})
                continue
            seen[participant] = line
            roster.rows.append(
                RosterRow(
                    line=line,
                    participant_id=participant,
                    name=values["name"],
                    email=values["email"],
                    registry_id=values.get("registry_id") or None,
                    language=values.get("language") or None,
                )
            )
    except csv.Error as exc:
        raise InvalidInput(
            "The file is not readable as CSV.", errors={"file": [f"Line {reader.line_num}: {exc}."]}
        ) from None
    return roster


@dataclass
class RosterReport:
    """What an import did, row by row: ``rows`` = registered + waitlisted + already_registered + rejected."""

    rows: int = 0
    registered: int = 0
    waitlisted: int = 0
    already_registered: int = 0
    rejected: list[dict] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        rejected = sorted(self.rejected, key=lambda row: row["line"])
        return {
            "rows": self.rows,
            "registered": self.registered,
            "waitlisted": self.waitlisted,
            "already_registered": self.already_registered,
            "rejected": rejected,
            "ignored_columns": list(self.ignored_columns),
        }
