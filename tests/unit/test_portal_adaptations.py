"""The facilitator's adaptation forms: what they send, what they refuse before any call, where the API's errors show."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from services.portal import adaptations as rules

SERIES = [
    {
        "id": "s1",
        "title": "Relationship-Based Care",
        "modules": [
            {"id": "m2", "position": 2, "title": "Responsive routines"},
            {"id": "m1", "position": 1, "title": "An introduction"},
        ],
    }
]
CORE = ["Key concepts", "Learning activities", "Planning for application"]


def form(**rows) -> MultiDict:
    """A component form: ``decision_<n>``/``rationale_<n>`` as given, each row naming its core component."""
    values = [(f"component_{n}", name) for n, name in enumerate(CORE)]
    return MultiDict(values + list(rows.items()))


def test_modules_are_offered_in_session_order_and_named_with_their_series():
    assert rules.module_choices(SERIES) == [
        ("m1", "Relationship-Based Care: 1. An introduction"),
        ("m2", "Relationship-Based Care: 2. Responsive routines"),
    ]


def test_my_adaptations_are_my_own_latest_change_first():
    listed = [
        {"id": "a", "facilitator": "fran", "updated_at": "2026-12-01T10:00:00+00:00"},
        {"id": "b", "facilitator": "other", "updated_at": "2026-12-05T10:00:00+00:00"},
        {"id": "c", "facilitator": "fran", "updated_at": "2026-12-03T10:00:00+00:00"},
    ]
    assert [a["id"] for a in rules.mine_newest_first(listed, "fran")] == ["c", "a"]


def test_a_draft_needs_a_module_and_a_title_and_keeps_its_words_as_typed():
    body, errors = rules.start_body(MultiDict({"module_id": "", "title": "  ", "audience": ""}))
    assert set(errors) == {"module_id", "title"}
    body, errors = rules.start_body(MultiDict({"module_id": "m1", "title": " Evening   cohorts ", "audience": " FCC "}))
    assert errors == {} and body == {"module_id": "m1", "title": "Evening cohorts", "audience": "FCC"}


def test_only_decided_components_are_sent_and_a_change_needs_its_reason():
    components, rows, errors = rules.components_body(form(decision_0="kept", decision_2="adapted", rationale_2="  "))
    assert [c["component"] for c in components] == ["Key concepts", "Planning for application"]
    assert rows == [0, 2]
    assert errors == {"rationale_2": rules.WHY}


def test_a_submission_names_each_undecided_component():
    assert set(rules.undecided(form(decision_0="kept"))) == {"decision_1", "decision_2"}
    assert rules.undecided(form(decision_0="kept", decision_1="dropped", decision_2="kept")) == {}


def test_the_apis_errors_show_beside_the_row_they_came_from():
    # The API numbers the components it was sent (rows 0 and 2 of the form), not the form's rows.
    shown = rules.api_errors(
        {
            "components.1.rationale": "Say why.",
            "components": "No decision for 'Learning activities'.",
            "title": "Long.",
        },
        [0, 2],
    )
    assert shown == {
        "rationale_2": "Say why.",
        "components": "No decision for 'Learning activities'.",
        "title": "Long.",
    }


def test_rows_show_what_was_saved_or_what_was_typed():
    saved = [{"component": "Learning activities", "decision": "adapted", "rationale": "Shorter."}]
    rows = rules.component_rows(CORE, saved)
    assert [(r["decision"], r["rationale"]) for r in rows] == [("", ""), ("adapted", "Shorter."), ("", "")]
    typed = rules.component_rows(CORE, saved, form(decision_1="dropped", rationale_1="Not in the evening."))
    assert typed[1] == {
        "index": 1,
        "component": "Learning activities",
        "decision": "dropped",
        "rationale": "Not in the evening.",
    }
