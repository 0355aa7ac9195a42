"""The registration rules alone: waitlist order, promotions, approval and roster CSV (no I/O).

Who gets a seat is decided by claiming seat rows in the database: tests/scheduling covers it on both engines.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.scheduling.domain import registrations as rules
from shared.errors import Conflict, InvalidInput

NOW = datetime(2025, 3, 1, 17, 0, tzinfo=UTC)
HEADER = "participant_id,name,email,registry_id\n"


# --- seats and the waitlist ---------------------------------------------------------------------


def test_seats_free_never_negative():
    assert rules.seats_free(10, 4) == 6
    assert rules.seats_free(3, 5) == 0


def test_promotion_takes_the_lowest_positions_into_the_free_seats():
    waitlist = [(5, "e"), (2, "b"), (9, "i"), (3, "c")]
    assert rules.to_promote(free=2, waitlist=waitlist) == ["b", "c"]
    assert rules.to_promote(free=0, waitlist=waitlist) == []
    assert rules.to_promote(free=20, waitlist=waitlist) == ["b", "c", "e", "i"]
    assert rules.to_promote(free=20, waitlist=[]) == []


def test_capacity_never_below_the_confirmed_seats():
    rules.check_capacity(10, 10)
    rules.check_capacity(11, 10)
    with pytest.raises(Conflict) as refused:
        rules.check_capacity(9, 10)
    assert "capacity" in refused.value.errors


# --- when and how one may register -------------------------------------------------------------


def test_registration_window():
    rules.check_window(NOW, None, None)
    rules.check_window(NOW, NOW - timedelta(days=1), NOW + timedelta(days=1))
    rules.check_window(NOW, NOW, None)  # opens at that instant
    with pytest.raises(Conflict) as early:
        rules.check_window(NOW, NOW + timedelta(minutes=1), None)
    assert "registration_opens_at" in early.value.errors
    with pytest.raises(Conflict) as late:
        rules.check_window(NOW, None, NOW)  # closes at that instant
    assert "registration_closes_at" in late.value.errors
    assert late.value.extra["registration_closes_at"] == NOW.isoformat()


@pytest.mark.parametrize("status", ["cancelled", "closed", "completed"])
def test_closed_cohorts_take_no_registrations(status):
    with pytest.raises(Conflict):
        rules.check_open(status)
    rules.check_open("open")


def test_one_live_registration_per_person():
    rules.check_not_registered(None)
    rules.check_not_registered("cancelled")
    for status in rules.ACTIVE:
        with pytest.raises(Conflict) as refused:
            rules.check_not_registered(status)
        assert "participant" in refused.value.errors


def test_cancel_and_approval_preconditions():
    for status in rules.ACTIVE:
        rules.check_cancellable(status)
    with pytest.raises(Conflict):
        rules.check_cancellable("cancelled")
    rules.check_pending("pending_approval")
    for status in ("confirmed", "waitlisted", "cancelled"):
        with pytest.raises(Conflict):
            rules.check_pending(status)


# --- roster CSV ---------------------------------------------------------------------------------


def test_a_clean_roster():
    roster = rules.parse_roster(HEADER + "p1,Ana Ruiz,ana@example.org,R-1\r\np2,Bo Lee,bo@example.org,\n")
    assert roster.count == 2 and roster.rejected == [] and roster.ignored_columns == []
    assert roster.rows == [
        rules.RosterRow(line=2, participant_id="p1", name="Ana Ruiz", email="ana@example.org", registry_id="R-1"),
        rules.RosterRow(line=3, participant_id="p2", name="Bo Lee", email="bo@example.org", registry_id=None),
    ]


def test_bad_rows_are_rejected_with_their_line_and_columns():
    text = (
        HEADER
        + ",No Id,noid@example.org,\n"  # line 2: participant_id missing
        + "p3,Bad Email,not-an-email,\n"  # line 3
        + "p4,,p4@example.org,\n"  # line 4: name missing
        + "\n"  # line 5: blank, skipped
        + "p5,Ok,ok@example.org,R5\n"  # line 6: good
        + "p5,Again,again@example.org,\n"  # line 7: listed twice
        + "p6,Too,many@example.org,R6,extra\n"  # line 8: more fields than columns
        + f"{'x' * 201},Long,long@example.org,\n"
    )  # line 9
    roster = rules.parse_roster(text)
    assert [row.participant_id for row in roster.rows] == ["p5"]
    assert roster.count == 7
    rejected = {row["line"]: row["errors"] for row in roster.rejected}
    assert set(rejected) == {2, 3, 4, 7, 8, 9}
    assert rejected[2] == {"participant_id": ["Required."]}
    assert rejected[3] == {"email": ["Not a valid email address."]}
    assert rejected[4] == {"name": ["Required."]}
    assert "line 6" in rejected[7]["participant_id"][0]
    assert "row" in rejected[8]
    assert rejected[9] == {"participant_id": ["At most 200 characters."]}


def test_unknown_columns_are_ignored_and_reported_and_the_header_is_normalised():
    text = "\ufeff Email ,Participant_ID,Phone,name,County\nana@example.org,p1,555-0100,Ana,Alameda\n"
    roster = rules.parse_roster(text)
    assert roster.ignored_columns == ["Phone", "County"]
    assert roster.rows[0] == rules.RosterRow(
        line=2, participant_id="p1", name="Ana", email="ana@example.org", registry_id=None
    )


def test_short_rows_miss_their_required_values():
    roster = rules.parse_roster(HEADER + "p1,Ana\n")
    assert roster.rejected == [{"line": 2, "errors": {"email": ["Required."]}}]


def test_a_quoted_field_across_lines_is_reported_where_its_record_starts():
    roster = rules.parse_roster(HEADER + 'p1,"Ana\nRuiz",not-an-email,\np2,Bo,bo@example.org,\n')
    assert roster.rejected == [
        {
            "line": 2,
            "errors": {
                "name": ["Must be a single line: no line breaks or tabs (U+000A)."],
                "email": ["Not a valid email address."],
            },
        }
    ]
    assert roster.rows[0].line == 4


def test_roster_cells_keep_the_text_rules_of_every_other_door():
    roster = rules.parse_roster(
        HEADER + "p1,Ana\u202e,a@example.org,\n"
        "p2,\u200b,b@example.org,\n"
        "p3,Bo\x07,b@example.org,\n"
        "p4,Cy,c@example.org,R\x1b4\n"
        "p5,\u00a0Di Lee\u00a0,d@example.org,\n"
    )
    rejected = {row["line"]: row["errors"] for row in roster.rejected}
    assert rejected == {
        2: {"name": ["Must not hold bidirectional control characters (U+202E)."]},
        3: {"name": ["Required."]},
        4: {"name": ["Must not hold control characters (U+0007)."]},
        5: {"registry_id": ["Must not hold control characters (U+001B)."]},
    }
    assert [(row.participant_id, row.name) for row in roster.rows] == [("p5", "Di Lee")]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "p1,Ana Ruiz,ana@example.org,R-1\n",  # no header: the first row is data
        "participant_id,name\np1,Ana\n",  # email column missing
        "participant_id,name,email,email\np1,A,a@example.org,b@example.org\n",
    ],
)
def test_a_file_without_a_usable_header_is_refused_as_a_whole(text):
    with pytest.raises(InvalidInput) as refused:
        rules.parse_roster(text)
    assert "file" in refused.value.errors


def test_too_many_rows_are_refused_as_a_whole():
    rows = "".join(f"p{i},P {i},p{i}@example.org,\n" for i in range(rules.MAX_ROSTER_ROWS + 1))
    with pytest.raises(InvalidInput):
        rules.parse_roster(HEADER + rows)


def test_roster_type_and_text():
    rules.check_roster_type("text/csv", "roster.csv")
    rules.check_roster_type("text/csv; charset=utf-8", None)
    rules.check_roster_type("application/vnd.ms-excel", "Roster.CSV")  # Windows browsers
    for media_type, filename in [
        ("application/pdf", "roster.csv"),
        ("text/plain", "roster.txt"),
        ("application/vnd.ms-excel", "roster.xls"),
        (None, None),
    ]:
        with pytest.raises(rules.NotCsv):
            rules.check_roster_type(media_type, filename)
    assert rules.decode_roster("\ufeffparticipant_id".encode()) == "participant_id"
    with pytest.raises(rules.NotCsv):
        rules.decode_roster(b"PK\x03\x04\x00\x00")  # a spreadsheet, not CSV
    with pytest.raises(rules.NotCsv):
        rules.decode_roster("caf\u00e9".encode("latin-1"))
    rules.check_roster_size(10, 10)
    with pytest.raises(rules.RosterTooLarge):
        rules.check_roster_size(11, 10)


def test_report_counts_and_orders_rejections_by_line():
    report = rules.RosterReport(
        rows=4,
        registered=1,
        waitlisted=1,
        already_registered=0,
        rejected=[{"line": 5, "errors": {}}, {"line": 2, "errors": {}}],
    )
    assert [row["line"] for row in report.as_dict()["rejected"]] == [2, 5]


def test_a_newcomer_given_a_seat_is_confirmed_and_one_given_a_waitlist_spot_waits_at_its_number():
    assert rules.newcomer_admitted(None) == (rules.CONFIRMED, None)
    assert rules.newcomer_admitted(7) == (rules.WAITLISTED, 7)
