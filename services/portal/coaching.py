"""What the coach and specialist pages decide without a network: order, defaults, and forms turned into API bodies.

Pure functions over the coaching and content APIs' JSON, so the pages stay thin and this is tested alone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from services.portal.forms import split_ids

STATUS_ORDER = ("overdue", "due_soon", "on_track", "fulfilled")
STATUS_LABELS = {"overdue": "Overdue", "due_soon": "Due soon", "on_track": "On track", "fulfilled": "Fulfilled"}
KINDS = (
    ("consultation", "Consultation"),
    ("coaching", "Coaching"),
    ("meeting", "Meeting"),
    ("office_hours", "Office hours"),
)
MODES = (("virtual", "Virtual"), ("in_person", "In person"), ("phone", "Phone"))
# The six PITC program practices, by the codes the coaching API takes.
PRACTICES = (
    ("primary-caregiving", "Primary caregiving"),
    ("continuity-of-care", "Continuity of care"),
    ("small-group-care", "Small group care"),
    ("individualized-care", "Individualized care"),
    ("culturally-responsive-care", "Culturally responsive care"),
    ("inclusive-care", "Inclusive care"),
)
DECISIONS = (("kept", "Kept"), ("adapted", "Adapted"), ("dropped", "Dropped"))
ACTIVITY_DEFAULTS = {"kind": "consultation", "duration_minutes": "60", "mode": "virtual"}
CHECKLIST_ROWS = 6  # core components a specialist scores on one observation form
FOLLOW_UP_WINDOW = timedelta(days=14)  # "follow-ups due": the next two weeks


def sort_caseload(items: list[dict]) -> list[dict]:
    """Overdue first, then due soon, on track, fulfilled; within a status the earliest due date first."""
    rank = {status: index for index, status in enumerate(STATUS_ORDER)}
    return sorted(items, key=lambda item: (rank.get(item.get("status"), len(rank)), item.get("due_on") or ""))


def trainer_label(item: dict) -> str:
    """A caseload row's trainer as people know them: the name they registered under, with their id to tell
    two of the same name apart; the id alone when scheduling gave no name."""
    name = item.get("trainer_name")
    return f"{name}, {item['trainer']}" if name else item["trainer"]


def bookers(caseload: list[dict], directory: list[dict]) -> dict[str, str]:
    """Who an office-hours form offers to book slots, by subject: the caseload's trainers first (as
    ``trainer_label`` names them), then the jurisdiction's other facilitators by name."""
    offered = {item["trainer"]: trainer_label(item) for item in sort_caseload(caseload)}
    return offered | {entry["sub"]: entry["name"] for entry in directory if entry["sub"] not in offered}


def follow_ups_due(items: list[dict], today: date, window: timedelta = FOLLOW_UP_WINDOW) -> list[dict]:
    """The trainers whose next follow-up falls within the window from today, soonest first."""
    last = (today + window).isoformat()
    due = [item for item in items if item.get("next_follow_up") and item["next_follow_up"] <= last]
    return sorted(due, key=lambda item: item["next_follow_up"])


def activity_defaults(today: date, trainer: str | None) -> dict:
    """What the log form shows before anyone types: today, an hour, a virtual consultation, the trainer chosen."""
    return {**ACTIVITY_DEFAULTS, "occurred_on": today.isoformat(), "trainer": trainer or ""}


def _whole_number(text: str, name: str, errors: dict) -> int | None:
    text = (text or "").strip()
    if not text:
        errors[name] = "Enter a number of minutes."
        return None
    try:
        return int(text)
    except ValueError:
        errors[name] = "Enter a whole number of minutes."
        return None


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


def activity_body(form) -> tuple[dict, dict]:
    """The POST /activities body a log form gives, and the errors found before asking the API."""
    errors: dict[str, str] = {}
    body = {
        "trainer": (form.get("trainer") or "").strip(),
        "kind": form.get("kind", ""),
        "occurred_on": form.get("occurred_on", ""),
        "mode": form.get("mode", ""),
        "people_present": _lines(form.get("people_present", "")),
        "practices": [code for code in form.getlist("practices") if code],
        "notes": form.get("notes", ""),
        "strengths": form.get("strengths", ""),
        "next_steps": form.get("next_steps", ""),
        "follow_up_on": form.get("follow_up_on") or None,
    }
    if not body["trainer"]:
        errors["trainer"] = "Choose the trainer you supported."
    minutes = _whole_number(form.get("duration_minutes", ""), "duration_minutes", errors)
    if minutes is not None:
        body["duration_minutes"] = minutes
    return body, errors


def cohort_choices(cohorts: list[dict]) -> list[tuple[str, str]]:
    """The cohorts a trainer facilitates as a form's choices, the newest first; cancelled ones left out."""
    kept = [c for c in cohorts if c.get("status") != "cancelled"]
    kept.sort(key=lambda c: c.get("created_at") or "", reverse=True)
    return [(c["id"], c["title"] if c.get("status") != "closed" else f"{c['title']} (closed)") for c in kept]


def observation_defaults(today: date, cohorts: list[tuple[str, str]]) -> dict:
    """A new observation form: observed today, of the trainer's one cohort when they facilitate just one."""
    return {"observed_on": today.isoformat(), **({"cohort_id": cohorts[0][0]} if len(cohorts) == 1 else {})}


def observation_body(form, trainer: str, cohorts: set[str] = frozenset()) -> tuple[dict, dict]:
    """The POST /observations body of a fidelity observation form, and errors found before asking the API.

    The form has a row per core component (its name and kept / adapted / dropped); empty rows are skipped.
    The cohort is one of ``cohorts`` (those the trainer facilitates) or none.
    """
    errors: dict[str, str] = {}
    checklist = []
    for index in range(CHECKLIST_ROWS):
        component = (form.get(f"component_{index}") or "").strip()
        decision = form.get(f"decision_{index}") or ""
        if component and not decision:
            errors[f"decision_{index}"] = "Choose kept, adapted or dropped."
        elif decision and not component:
            errors[f"component_{index}"] = "Name the core component."
        elif component:
            checklist.append({"component": component, "decision": decision})
    if not checklist and not errors:
        errors["component_0"] = "Score at least one core component."
    body = {
        "trainer": trainer,
        "observed_on": form.get("observed_on", ""),
        "practice": form.get("practice") or None,
        "cohort_id": form.get("cohort_id") or None,
        "comments": form.get("comments", ""),
        "checklist": checklist,
    }
    if body["cohort_id"] and body["cohort_id"] not in cohorts:
        errors["cohort_id"] = "Choose one of the cohorts the trainer facilitates, or none."
    position = (form.get("session_position") or "").strip()
    try:
        body["session_position"] = int(position)
    except ValueError:
        errors["session_position"] = "Enter the session's number (1 to 9)."
    return body, errors


def observation_errors(api_errors: dict) -> dict:
    """The API's errors on ``checklist.N.field`` shown next to the form's row N."""
    shown = {}
    for key, message in api_errors.items():
        parts = key.split(".")
        if parts[0] == "checklist" and len(parts) == 3 and parts[1].isdigit():
            shown[f"{parts[2]}_{parts[1]}"] = message
        elif parts[0] == "checklist":
            shown["component_0"] = message
        else:
            shown[key] = message
    return shown


def review_body(form, checklist_items: list[str]) -> dict:
    """The POST /adaptations/{id}/reviews body: the decision, each fidelity checklist item met or not, comments."""
    return {
        "decision": form.get("decision", ""),
        "checklist": [
            {"item": item, "met": form.get(f"met_{index}") == "yes", "comment": form.get(f"comment_{index}", "")}
            for index, item in enumerate(checklist_items)
        ],
        "comments": form.get("comments", ""),
    }


def milestones(commitment: dict) -> list[tuple[str, str | None]]:
    """A commitment's milestones in the order they happen, each with when it was reached (or None)."""
    return [
        ("Delivery scheduled", commitment.get("delivery_scheduled_at")),
        ("First session held", commitment.get("first_session_held_at")),
        ("Delivery completed", commitment.get("delivery_completed_at")),
    ]


def latest_plan(plans: list[dict]) -> dict | None:
    """A trainer's current plan: the one opened by their latest completion."""
    return max(plans, key=lambda plan: plan.get("completed_at") or "", default=None)


OFFICE_HOURS_DEFAULTS = {"title": "Office hours", "duration_minutes": "60", "slot_minutes": "30", "weeks": "12"}
# The API's fields as the office-hours form names them.
OFFICE_HOURS_FIELDS = {"local_start": "first_start", "rrule": "weeks", "supported_facilitators": "other_facilitators"}


def office_hours_body(form) -> tuple[dict, dict]:
    """The POST /recurring-series body of the "hold office hours" form (weekly, for a number of weeks), and errors.

    The facilitators who may book are those ticked among the caseload and any other user ids typed.
    """
    errors: dict[str, str] = {}
    numbers = {}
    for name, low, high in (("duration_minutes", 5, 1440), ("slot_minutes", 5, 480), ("weeks", 1, 52)):
        text = (form.get(name) or "").strip()
        if not text.isdigit() or not low <= int(text) <= high:
            errors[name] = f"Enter a whole number from {low} to {high}."
        else:
            numbers[name] = int(text)
    first = (form.get("first_start") or "").strip()
    try:
        local_start = datetime.strptime(first, "%Y-%m-%dT%H:%M").strftime("%Y-%m-%dT%H:%M:00")
    except ValueError:
        errors["first_start"] = "Enter the day and time of the first office hours."
        local_start = first
    facilitators = list(dict.fromkeys([*form.getlist("facilitator"), *split_ids(form.get("other_facilitators", ""))]))
    if not facilitators:
        errors["other_facilitators"] = "Choose at least one facilitator who may book a slot."
    body = {
        "kind": "office_hours",
        "title": (form.get("title") or "").strip(),
        "time_zone": form.get("time_zone") or "",
        "local_start": local_start,
        "duration_minutes": numbers.get("duration_minutes"),
        "slot_minutes": numbers.get("slot_minutes"),
        "rrule": f"FREQ=WEEKLY;COUNT={numbers.get('weeks', 1)}",
        "meeting_url": (form.get("meeting_url") or "").strip() or None,
        "supported_facilitators": facilitators,
    }
    return body, errors


def office_hours_errors(api_errors: dict) -> dict:
    """The API's field errors shown next to the office-hours form's own fields."""
    return {
        OFFICE_HOURS_FIELDS.get(key.split(".")[0], key.split(".")[0]): message for key, message in api_errors.items()
    }


# Who agrees a time frame besides the trainer and the specialist: the jurisdiction or the host agency.
SIGNING_PARTIES = (("jurisdiction", "The jurisdiction"), ("host_agency", "The host agency"))


def commitment_defaults(plan: dict | None, trainer_name: str | None, my_name: str, today: date) -> dict:
    """The time-frame and delivery forms as they open: the plan's months, today, the trainer and the plan's
    specialist (else the signed-in person)."""
    months = (plan or {}).get("commitment", {}).get("time_frame_months") or 6
    return {
        "months": str(months),
        "agreed_on": today.isoformat(),
        "participant_name": trainer_name or "",
        "specialist_name": (plan or {}).get("specialist_name") or my_name,
        "party": "host_agency",
        "delivered_on": today.isoformat(),
    }


def time_frame_body(form) -> tuple[dict, dict]:
    """PUT /plans/<id>/time-frame's body: months, the day, and who agreed (trainer, specialist, and one more)."""
    errors: dict[str, str] = {}
    months = (form.get("months") or "").strip()
    if not months.isdigit() or not 1 <= int(months) <= 60:
        errors["months"] = "Enter the months, from 1 to 60."
    names = {key: (form.get(key) or "").strip() for key in ("participant_name", "specialist_name", "party_name")}
    for key, text in names.items():
        if not text:
            errors[key] = "Name who agreed."
    body = {
        "months": int(months) if months.isdigit() else 0,
        "agreed_on": form.get("agreed_on") or "",
        "agreed_by": [
            {"party": "participant", "name": names["participant_name"]},
            {"party": "specialist", "name": names["specialist_name"]},
            {"party": form.get("party") or "", "name": names["party_name"]},
        ],
    }
    return body, errors


def delivery_body(form) -> tuple[dict, dict]:
    """PUT /plans/<id>/delivery's body: the day the trainer delivered the training and what shows it."""
    evidence = (form.get("evidence") or "").strip()
    errors = {} if evidence else {"evidence": "Say what shows the delivery happened."}
    return {"delivered_on": form.get("delivered_on") or "", "evidence": evidence}, errors


def commitment_errors(api_errors: dict) -> dict:
    """The API's errors beside the forms' fields (``agreed_by.2.party`` is the third party's choice)."""
    shown = {}
    for key, message in api_errors.items():
        parts = key.split(".")
        if parts[0] == "agreed_by" and len(parts) == 3 and parts[1] in ("0", "1", "2"):
            field = ("participant_name", "specialist_name", "party_name")[int(parts[1])]
            shown["party" if parts[2] == "party" else field] = message
        elif parts[0] == "agreed_by":
            shown["party_name"] = message
        else:
            shown[parts[0]] = message
    return shown


def chosen_specialist(form) -> str | None:
    """The specialist a form chose: the user id typed for one not listed yet, else the one chosen by name."""
    return (form.get("other_specialist") or "").strip() or (form.get("specialist") or "").strip() or None


def specialists_offered(directory: list[dict], current: str | None) -> list[dict]:
    """The specialists a form offers: those not withdrawn, and the one chosen now even if withdrawn (shown so)."""
    return [s for s in directory if not s.get("withdrawn_at") or s["sub"] == current]


def specialist_errors(api_errors: dict, field: str) -> dict:
    """The API's error on ``field`` (a plan's specialist, the default one) beside the form's choice."""
    return {("specialist" if key == field else key): message for key, message in api_errors.items()}


UNASSIGNED = "unassigned"  # the caseload page's choice of the trainers whose plan names no specialist yet


def caseload_heading(whose: str, me: str, specialists: list[dict]) -> str:
    """What the caseload page shows: one's own trainers, a specialist's (by name), or those without one."""
    if whose == UNASSIGNED:
        return "Trainers without a specialist"
    if not whose or whose == me:
        return "My caseload"
    name = next((s["name"] for s in specialists if s["sub"] == whose), whose)
    return f"Caseload of {name}"


def report(summary: dict, reach: dict, cohort_titles: dict[str, str]) -> dict:
    """A jurisdiction's coaching figures as the report page shows them: labelled, in the pages' orders."""
    kinds = dict(KINDS)
    fidelity = summary["fidelity"]
    practices = dict(PRACTICES)
    return {
        "commitments": [(STATUS_LABELS[s], summary["commitments_by_status"].get(s, 0)) for s in STATUS_ORDER],
        "activities": [
            (kinds.get(kind, kind), figures["count"], figures["hours"])
            for kind, figures in summary["activities_by_kind"].items()
        ],
        "hours_by_month": sorted(summary["hours_by_month"].items(), reverse=True),
        "fidelity": {
            "observations": fidelity["observations"],
            "average": fidelity["average"],
            "by_practice": [
                (practices.get(p, "All practices" if p == "all_practices" else p), average)
                for p, average in fidelity["by_practice"].items()
            ],
        },
        "reach": {key: reach.get(key, 0) for key in ("graduates", "trainings_delivered", "practitioners_reached")},
        "reach_cohorts": [
            {**cohort, "title": cohort_titles.get(cohort["cohort_id"])} for cohort in reach.get("cohorts", [])
        ],
    }


def national_report(summaries: list[dict], reaches: list[dict]) -> list[dict]:
    """One row per jurisdiction with records: its headline figures, or withheld without its consent."""
    reach_of = {item["jurisdiction"]: item for item in reaches}
    rows = []
    for item in summaries:
        row = {"jurisdiction": item["jurisdiction"], "withheld": item["status"] != "included"}
        if not row["withheld"]:
            reach = reach_of.get(item["jurisdiction"], {})
            activities = item["activities_by_kind"].values()
            row.update(
                activities=sum(a["count"] for a in activities),
                hours=round(sum(a["hours"] for a in activities), 2),
                commitments=[item["commitments_by_status"].get(s, 0) for s in STATUS_ORDER],
                fidelity=item["fidelity"]["average"],
                graduates=reach.get("graduates", 0),
                trainings_delivered=reach.get("trainings_delivered", 0),
                practitioners_reached=reach.get("practitioners_reached", 0),
            )
        rows.append(row)
    return rows
