"""The coach pages' logic without a browser: caseload order, follow-ups due, the log form's defaults and bodies,
observation and review forms, and the pages hidden while the portal does not know the coaching service."""

from __future__ import annotations

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from services.portal import coaching as rules
from services.portal.app import create_app
from tests.portal.test_pages import closed_port, config, csrf_token, sign_in


def test_the_caseload_puts_overdue_first_then_due_soon_on_track_fulfilled_each_by_due_date():
    items = [
        {"trainer": "f", "status": "fulfilled", "due_on": "2026-01-01"},
        {"trainer": "t2", "status": "on_track", "due_on": "2027-05-01"},
        {"trainer": "s", "status": "due_soon", "due_on": "2026-12-20"},
        {"trainer": "o2", "status": "overdue", "due_on": "2026-11-30"},
        {"trainer": "t1", "status": "on_track", "due_on": "2027-03-01"},
        {"trainer": "o1", "status": "overdue", "due_on": "2026-10-01"},
    ]
    assert [item["trainer"] for item in rules.sort_caseload(items)] == ["o1", "o2", "s", "t1", "t2", "f"]


def test_follow_ups_due_are_those_within_two_weeks_soonest_first():
    today = date(2026, 12, 5)
    items = [
        {"trainer": "later", "next_follow_up": "2026-12-19"},
        {"trainer": "too-late", "next_follow_up": "2026-12-20"},
        {"trainer": "none", "next_follow_up": None},
        {"trainer": "today", "next_follow_up": "2026-12-05"},
    ]
    assert [item["trainer"] for item in rules.follow_ups_due(items, today)] == ["today", "later"]


def test_the_log_form_starts_as_an_hour_long_virtual_consultation_today_with_the_trainer_chosen():
    assert rules.activity_defaults(date(2026, 12, 5), "dev-participant-ca") == {
        "kind": "consultation",
        "duration_minutes": "60",
        "mode": "virtual",
        "occurred_on": "2026-12-05",
        "trainer": "dev-participant-ca",
    }


def test_a_log_form_becomes_the_api_body_with_practices_people_and_minutes():
    form = MultiDict(
        [
            ("trainer", " ana "),
            ("kind", "consultation"),
            ("occurred_on", "2026-12-05"),
            ("duration_minutes", "45"),
            ("mode", "phone"),
            ("practices", "primary-caregiving"),
            ("practices", "inclusive-care"),
            ("people_present", "Ana López\nDirector Ruiz"),
            ("notes", "Worried about the venue."),
            ("next_steps", "Book the hall"),
            ("follow_up_on", ""),
        ]
    )
    body, errors = rules.activity_body(form)
    assert errors == {}
    assert body["trainer"] == "ana" and body["duration_minutes"] == 45
    assert body["practices"] == ["primary-caregiving", "inclusive-care"]
    assert body["people_present"] == ["Ana López", "Director Ruiz"]
    assert body["follow_up_on"] is None and body["notes"] == "Worried about the venue."


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"trainer": ""}, "trainer"),
        ({"duration_minutes": "an hour"}, "duration_minutes"),
        ({"duration_minutes": ""}, "duration_minutes"),
    ],
)
def test_a_log_form_missing_what_the_api_needs_is_refused_next_to_its_field(changes, field):
    form = MultiDict({"trainer": "ana", "kind": "consultation", "duration_minutes": "60", **changes})
    _, errors = rules.activity_body(form)
    assert list(errors) == [field]


def test_an_observation_form_keeps_filled_rows_and_flags_half_filled_ones():
    form = MultiDict(
        {
            "session_position": "3",
            "observed_on": "2026-12-01",
            "component_0": "Warm welcome",
            "decision_0": "kept",
            "component_1": "Small-group practice",
            "decision_1": "adapted",
            "component_2": "",
            "decision_2": "",
        }
    )
    body, errors = rules.observation_body(form, "ana")
    assert errors == {}
    assert body["trainer"] == "ana" and body["session_position"] == 3
    assert body["checklist"] == [
        {"component": "Warm welcome", "decision": "kept"},
        {"component": "Small-group practice", "decision": "adapted"},
    ]
    _, errors = rules.observation_body(MultiDict({"session_position": "x", "component_1": "Welcome"}), "ana")
    assert errors == {
        "decision_1": "Choose kept, adapted or dropped.",
        "session_position": "Enter the session's number (1 to 9).",
    }
    _, errors = rules.observation_body(MultiDict({"session_position": "1"}), "ana")
    assert errors == {"component_0": "Score at least one core component."}


def test_an_observation_names_one_of_the_cohorts_the_trainer_facilitates_or_none():
    cohorts = [
        {"id": "c-old", "title": "Fall", "status": "closed", "created_at": "2026-09-01T00:00:00Z"},
        {"id": "c-new", "title": "Spring", "status": "open", "created_at": "2027-01-05T00:00:00Z"},
        {"id": "c-off", "title": "Called off", "status": "cancelled", "created_at": "2026-10-01T00:00:00Z"},
    ]
    choices = rules.cohort_choices(cohorts)
    assert choices == [("c-new", "Spring"), ("c-old", "Fall (closed)")]
    today = date(2027, 2, 1)
    assert rules.observation_defaults(today, choices) == {"observed_on": "2027-02-01"}
    assert rules.observation_defaults(today, choices[:1]) == {"observed_on": "2027-02-01", "cohort_id": "c-new"}

    filled = {"session_position": "2", "component_0": "Welcome", "decision_0": "kept"}
    body, errors = rules.observation_body(MultiDict({**filled, "cohort_id": "c-old"}), "ana", {"c-new", "c-old"})
    assert errors == {} and body["cohort_id"] == "c-old"
    body, errors = rules.observation_body(MultiDict({**filled, "cohort_id": ""}), "ana", {"c-new"})
    assert errors == {} and body["cohort_id"] is None
    _, errors = rules.observation_body(MultiDict({**filled, "cohort_id": "c-off"}), "ana", {"c-new"})
    assert errors == {"cohort_id": "Choose one of the cohorts the trainer facilitates, or none."}


def test_office_hours_offer_the_caseload_first_then_the_jurisdictions_other_facilitators_once_each():
    caseload = [
        {"trainer": "ana", "trainer_name": "Ana López", "status": "on_track"},
        {"trainer": "fran", "trainer_name": None, "status": "on_track"},
    ]
    directory = [{"sub": "fran", "name": "Fran Facilitator"}, {"sub": "keoni", "name": "Keoni Kahale"}]
    offered = rules.bookers(caseload, directory)
    assert list(offered)[-1] == "keoni"  # the directory's others come after the caseload
    assert offered["keoni"] == "Keoni Kahale"
    assert offered["fran"] == rules.trainer_label(caseload[1])  # in the caseload: named as the caseload names her
    assert set(offered) == {"ana", "fran", "keoni"}
    assert rules.bookers([], []) == {}


def test_the_office_hours_form_becomes_a_weekly_series_for_the_facilitators_chosen():
    form = MultiDict(
        [
            ("title", "Sam's office hours"),
            ("first_start", "2027-01-12T14:00"),
            ("time_zone", "America/Los_Angeles"),
            ("duration_minutes", "60"),
            ("slot_minutes", "30"),
            ("weeks", "8"),
            ("meeting_url", ""),
            ("facilitator", "ana"),
            ("facilitator", "ben"),
            ("other_facilitators", "fran, ana,\ngus"),
        ]
    )
    body, errors = rules.office_hours_body(form)
    assert errors == {}
    assert body == {
        "kind": "office_hours",
        "title": "Sam's office hours",
        "time_zone": "America/Los_Angeles",
        "local_start": "2027-01-12T14:00:00",
        "duration_minutes": 60,
        "slot_minutes": 30,
        "rrule": "FREQ=WEEKLY;COUNT=8",
        "meeting_url": None,
        "supported_facilitators": ["ana", "ben", "fran", "gus"],
    }
    _, errors = rules.office_hours_body(
        MultiDict({"first_start": "next tuesday", "duration_minutes": "0", "slot_minutes": "30", "weeks": "53"})
    )
    assert set(errors) == {"first_start", "duration_minutes", "weeks", "other_facilitators"}
    assert errors["weeks"] == "Enter a whole number from 1 to 52."
    # The API's refusals land next to the form's own fields.
    assert rules.office_hours_errors({"local_start": "Not a time.", "supported_facilitators.0": "Too long."}) == {
        "first_start": "Not a time.",
        "other_facilitators": "Too long.",
    }


def test_the_apis_checklist_errors_are_shown_next_to_the_forms_rows():
    shown = rules.observation_errors({"checklist.1.decision": "Not one of kept.", "observed_on": "Not a date."})
    assert shown == {"decision_1": "Not one of kept.", "observed_on": "Not a date."}


def test_a_review_answers_every_checklist_item_met_or_not():
    form = MultiDict({"decision": "changes_requested", "met_0": "yes", "comment_1": "Missing", "comments": "Fix it"})
    body = rules.review_body(form, ["First item", "Second item"])
    assert body == {
        "decision": "changes_requested",
        "checklist": [
            {"item": "First item", "met": True, "comment": ""},
            {"item": "Second item", "met": False, "comment": "Missing"},
        ],
        "comments": "Fix it",
    }


def test_milestones_and_the_latest_plan():
    plans = [
        {"id": "old", "completed_at": "2025-01-01T00:00:00Z"},
        {"id": "new", "completed_at": "2026-06-01T00:00:00Z"},
    ]
    assert rules.latest_plan(plans)["id"] == "new"
    assert rules.latest_plan([]) is None
    assert rules.milestones({"delivery_scheduled_at": "2026-07-01T10:00:00+00:00"}) == [
        ("Delivery scheduled", "2026-07-01T10:00:00+00:00"),
        ("First session held", None),
        ("Delivery completed", None),
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/coach",
        "/coach/follow-ups",
        "/coach/activities/new",
        "/coach/trainers/ana",
        "/coach/adaptations",
        "/coach/office-hours",
        "/coach/office-hours/new",
        "/coach/specialists",
        "/coach/settings",
        "/coach/trainers/ana/plans/p1/specialist",
        "/coach/report",
        "/coach/report.csv",
        "/my/commitment",
    ],
)
def test_coach_pages_do_not_exist_while_the_coaching_service_is_not_configured(tmp_path, path):
    client = create_app(config(tmp_path)).test_client()
    sign_in(client, role="specialist")
    page = client.get(path)
    assert page.status_code == 404
    assert page.headers["X-API-Calls"] == "0"
    assert "Caseload" not in client.get("/my/training").get_data(as_text=True)


def test_a_coaching_service_that_does_not_answer_shows_a_plain_message(tmp_path):
    client = create_app(config(tmp_path, coaching_url=f"http://127.0.0.1:{closed_port()}")).test_client()
    sign_in(client, role="specialist")
    page = client.get("/coach")
    assert page.status_code == 503
    assert "The coaching service could not answer just now" in page.get_data(as_text=True)
    form = client.post(
        "/coach/activities/new", data={"trainer": "", "duration_minutes": "60", "csrf_token": csrf_token(client)}
    )
    # Refused before any write: the one call is the caseload the form is shown again with.
    assert form.status_code == 503 and form.headers["X-API-Calls"] == "1"


def test_the_caseload_names_trainers_as_they_registered_with_their_id_beside(tmp_path):
    """The caseload, follow-ups and the log form's choices show the name coaching gives, over real HTTP."""
    from flask import Flask

    from shared.testing.contract import serving

    today = date.today()
    coaching = Flask("coaching-stand-in")
    caseload = {
        "specialist": "dev-specialist-ca",
        "today": today.isoformat(),
        "items": [
            {
                "trainer": "dev-participant-ca",
                "trainer_name": "Ana López",
                "plan_id": "p1",
                "status": "due_soon",
                "due_on": today.isoformat(),
                "last_contact": None,
                "next_follow_up": today.isoformat(),
            },
            {
                "trainer": "ben-cho",
                "trainer_name": None,  # a plan opened before completions carried names
                "plan_id": "p2",
                "status": "on_track",
                "due_on": today.isoformat(),
                "last_contact": None,
                "next_follow_up": None,
            },
        ],
    }
    coaching.get("/caseload")(lambda: caseload)
    with serving(coaching) as url:
        client = create_app(config(tmp_path, coaching_url=url)).test_client()
        sign_in(client, role="specialist")
        page = client.get("/coach").get_data(as_text=True)
        follow_ups = client.get("/coach/follow-ups").get_data(as_text=True)
        form = client.get("/coach/activities/new").get_data(as_text=True)
    assert '>Ana López</a> <span class="hint">dev-participant-ca</span>' in page
    assert "a support activity with Ana López</span>" in page
    assert ">ben-cho</a></th>" in page and "a support activity with ben-cho</span>" in page
    assert 'Log the follow-up<span class="visually-hidden"> with Ana López</span>' in follow_ups
    assert ">Ana López, dev-participant-ca (Due soon)</option>" in form
    assert rules.trainer_label({"trainer": "ben-cho", "trainer_name": None}) == "ben-cho"


def test_reported_hours_are_sent_as_minutes_and_bad_hours_refused_before_any_call():
    from services.portal.pages.people import reported_hours_body

    form = MultiDict({"title": " Infant CPR ", "provider": "Red Cross", "completed_on": "2026-10-01", "hours": "2.25"})
    body, errors = reported_hours_body(form)
    assert errors == {}
    assert body == {
        "title": "Infant CPR",
        "provider": "Red Cross",
        "completed_on": "2026-10-01",
        "minutes": 135,
        "registry_id": None,
    }
    for hours in ("", "two", "0", "101"):
        _, errors = reported_hours_body(MultiDict({**form, "hours": hours}))
        assert list(errors) == ["hours"], hours


def test_the_time_frame_form_names_the_three_who_agreed_and_maps_the_apis_errors_back():
    form = MultiDict(
        {
            "months": "9",
            "agreed_on": "2027-01-04",
            "participant_name": "Ana López",
            "specialist_name": " Sam Specialist ",
            "party": "host_agency",
            "party_name": "Bay Area Child Care Council",
        }
    )
    body, errors = rules.time_frame_body(form)
    assert errors == {}
    assert body == {
        "months": 9,
        "agreed_on": "2027-01-04",
        "agreed_by": [
            {"party": "participant", "name": "Ana López"},
            {"party": "specialist", "name": "Sam Specialist"},
            {"party": "host_agency", "name": "Bay Area Child Care Council"},
        ],
    }
    _, errors = rules.time_frame_body(MultiDict({"months": "61", "party": "jurisdiction"}))
    assert set(errors) == {"months", "participant_name", "specialist_name", "party_name"}
    assert rules.commitment_errors({"agreed_by.2.party": "Not one of…", "agreed_on": "Not a date."}) == {
        "party": "Not one of…",
        "agreed_on": "Not a date.",
    }
    assert rules.delivery_body(MultiDict({"delivered_on": "2027-05-01", "evidence": "  "}))[1] == {
        "evidence": "Say what shows the delivery happened."
    }


def test_a_specialist_is_chosen_by_name_or_by_a_user_id_typed_for_one_not_listed():
    assert rules.chosen_specialist(MultiDict({"specialist": "its-1", "other_specialist": " "})) == "its-1"
    assert rules.chosen_specialist(MultiDict({"specialist": "its-1", "other_specialist": " auth0|new "})) == "auth0|new"
    assert rules.chosen_specialist(MultiDict({"specialist": ""})) is None  # nobody: a setting left empty
    directory = [
        {"sub": "a", "name": "Ana", "withdrawn_at": None},
        {"sub": "b", "name": "Ben", "withdrawn_at": "2026-12-01T10:00:00+00:00"},
        {"sub": "c", "name": "Cy", "withdrawn_at": "2026-12-01T10:00:00+00:00"},
    ]
    # Withdrawn specialists are not offered, but the one chosen now still shows (marked withdrawn).
    assert [s["sub"] for s in rules.specialists_offered(directory, "b")] == ["a", "b"]
    assert [s["sub"] for s in rules.specialists_offered(directory, None)] == ["a"]
    assert rules.specialist_errors({"default_specialist": "Ben is withdrawn.", "x": "y"}, "default_specialist") == {
        "specialist": "Ben is withdrawn.",
        "x": "y",
    }


def test_an_admin_chooses_whose_caseload_and_starts_with_the_trainers_without_a_specialist(tmp_path):
    """Over real HTTP: an admin's caseload asks for the trainers without a specialist, offers the specialists
    by name, and links each trainer to assigning one; a specialist's own caseload is one call, as before."""
    from flask import Flask, request

    from shared.testing.contract import serving

    today = date.today().isoformat()
    asked: list[dict] = []
    coaching = Flask("coaching-stand-in")

    @coaching.get("/caseload")
    def caseload():
        asked.append(dict(request.args))
        item = {"trainer": "ana", "trainer_name": "Ana López", "plan_id": "p1", "status": "on_track",
                "due_on": today, "last_contact": None, "next_follow_up": None}  # fmt: skip
        return {"specialist": request.args.get("specialist"), "today": today, "items": [item]}

    coaching.get("/specialists")(
        lambda: {
            "items": [
                {"sub": "its-1", "name": "Rosa Reyes", "tenant": "CA", "withdrawn_at": None},
                {"sub": "its-0", "name": "Sam Left", "tenant": "CA", "withdrawn_at": "2026-12-01T10:00:00+00:00"},
            ]
        }
    )
    with serving(coaching) as url:
        client = create_app(config(tmp_path, coaching_url=url)).test_client()
        sign_in(client, role="jurisdiction_admin")
        first = client.get("/coach")
        rosa = client.get("/coach?whose=its-1").get_data(as_text=True)
        sign_in(client, role="specialist")
        own = client.get("/coach")
    page = first.get_data(as_text=True)
    assert first.headers["X-API-Calls"] == "2" and own.headers["X-API-Calls"] == "1"
    assert asked == [{"unassigned": "true"}, {"specialist": "its-1"}, {}]
    assert "<h1>Trainers without a specialist</h1>" in page
    assert '<option value="its-1" >Rosa Reyes</option>' in page
    assert '<option value="its-0" >Sam Left (withdrawn)</option>' in page  # to reassign the trainers they left
    assert (
        'href="/coach/trainers/ana/plans/p1/specialist">Assign<span class="visually-hidden"> the specialist of Ana López'
        in page
    )
    assert "a support activity with" not in page  # admins do not log support
    assert "<h1>Caseload of Rosa Reyes</h1>" in rosa and ">Change<span" in rosa
    assert "<h1>My caseload</h1>" in own.get_data(as_text=True)


def test_the_report_labels_the_apis_figures_in_the_pages_orders_and_names_the_cohorts():
    summary = {
        "commitments_by_status": {"fulfilled": 2, "overdue": 1, "on_track": 4, "due_soon": 0},
        "activities_by_kind": {"consultation": {"count": 3, "hours": 2.5}, "office_hours": {"count": 1, "hours": 0.5}},
        "hours_by_month": {"2026-11": 1.0, "2026-12": 2.0},
        "fidelity": {"observations": 2, "average": 0.75, "by_practice": {"inclusive-care": 0.5, "all_practices": 1.0}},
    }
    reach = {
        "graduates": 7,
        "trainings_delivered": 2,
        "practitioners_reached": 31,
        "cohorts": [{"cohort_id": "c1", "graduates": 7, "trainings_delivered": 2, "practitioners_reached": 31}],
    }
    shown = rules.report(summary, reach, {"c1": "Bay Area 2027"})
    assert shown["commitments"] == [("Overdue", 1), ("Due soon", 0), ("On track", 4), ("Fulfilled", 2)]
    assert shown["activities"] == [("Consultation", 3, 2.5), ("Office hours", 1, 0.5)]
    assert shown["hours_by_month"] == [("2026-12", 2.0), ("2026-11", 1.0)]  # the latest first
    assert shown["fidelity"]["by_practice"] == [("Inclusive care", 0.5), ("All practices", 1.0)]
    assert shown["reach"] == {"graduates": 7, "trainings_delivered": 2, "practitioners_reached": 31}
    assert shown["reach_cohorts"][0]["title"] == "Bay Area 2027"
    assert rules.report(summary, reach, {})["reach_cohorts"][0]["title"] is None  # the page shows the id

    national = rules.national_report(
        [{"jurisdiction": "CA", "status": "included", **summary}, {"jurisdiction": "TX", "status": "withheld"}],
        [{"jurisdiction": "CA", "status": "included", **reach}, {"jurisdiction": "TX", "status": "withheld"}],
    )
    assert national[1] == {"jurisdiction": "TX", "withheld": True}  # no figure of a jurisdiction without consent
    assert {k: national[0][k] for k in ("activities", "hours", "commitments", "fidelity", "practitioners_reached")} == {
        "activities": 4,
        "hours": 3.0,
        "commitments": [1, 0, 4, 2],
        "fidelity": 0.75,
        "practitioners_reached": 31,
    }
