"""Pure rules of reports, fidelity and the notes' readers."""

from datetime import date

from services.coaching.domain import fidelity, reports
from services.coaching.domain.activities import Viewer, may_read_notes


def test_a_summary_adds_hours_by_kind_and_month_and_counts_statuses():
    figures = reports.summary(
        [("consultation", date(2026, 10, 5), 90), ("meeting", date(2026, 11, 1), 30)],
        [(date(2026, 11, 1), None), (date(2027, 6, 1), None), (date(2026, 1, 1), date(2025, 12, 1))],
        [("primary-caregiving", 0.5), (None, 1.0)],
        date(2026, 12, 1),
    )
    assert figures["activities_by_kind"]["consultation"] == {"count": 1, "hours": 1.5}
    assert figures["hours_by_month"] == {"2026-10": 1.5, "2026-11": 0.5}
    assert figures["commitments_by_status"] == {"overdue": 1, "due_soon": 0, "on_track": 1, "fulfilled": 1}
    assert figures["fidelity"] == {
        "observations": 2,
        "average": 0.75,
        "by_practice": {"all_practices": 1.0, "primary-caregiving": 0.5},
    }


def test_csv_cells_never_run_as_formulas():
    text = reports.to_csv(("a", "b"), [{"a": "=HYPERLINK()", "b": ["x", "y"]}])
    assert text == "a,b\r\n'=HYPERLINK(),x;y\r\n"


def test_fidelity_scores_and_trends():
    assert fidelity.score([{"decision": "kept"}, {"decision": "adapted"}, {"decision": "dropped"}]) == 0.5
    assert fidelity.trend([(date(2026, 1, 1), 0.9), (date(2026, 2, 1), 0.5)]) == "declining"
    assert fidelity.trend([(date(2026, 1, 1), 0.5), (date(2026, 2, 1), 0.52)]) == "steady"
    assert fidelity.trend([(date(2026, 1, 1), 0.5)]) == "steady"


def test_notes_readers():
    admin = Viewer("admin", "CA", jurisdiction_admin=True)
    assert may_read_notes(admin, tenant="CA", author="x", specialist=None)
    assert not may_read_notes(Viewer("admin", "NY", jurisdiction_admin=True), tenant="CA", author="x", specialist=None)
    assert may_read_notes(Viewer("its", "CA", False), tenant="CA", author="x", specialist="its")
    assert not may_read_notes(Viewer("its", "CA", False), tenant="CA", author="x", specialist=None)
    assert may_read_notes(Viewer("x", "CA", False), tenant="CA", author="x", specialist="its")
