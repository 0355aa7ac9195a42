"""Coaching's pages: caseload, logging support, follow-ups, a trainer, fidelity, adaptations, office hours; and
for jurisdiction admins and national staff, specialists by name, coaching settings and the coaching report.

Every page is one to three API calls; none exists while ``PORTAL_COACHING_URL`` is empty.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import wraps

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from services.portal import coaching as rules
from services.portal import identity
from services.portal.backend import BackendError
from services.portal.pages import backend, directories, token
from services.portal.pages.people import office_hours_slots
from services.portal.zones import ZONE_OPTIONS

blp = Blueprint("coaching", __name__)
PAGE = 200


def with_coaching(view):
    """The page exists only when the portal knows where the coaching service is."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not backend().has("coaching"):
            abort(404)
        return view(*args, **kwargs)

    return wrapper


def _today() -> date:
    return datetime.now(UTC).date()  # coaching's days are UTC days


def _caseload() -> dict:
    return backend().get("coaching", "/caseload", token=token())


@blp.get("/coach")
@identity.signed_in
@with_coaching
def caseload():
    """The specialist's trainers, overdue first, with last contact and next follow-up: one call. A jurisdiction
    admin chooses whose: a specialist's (by name) or the trainers without one, to assign them: two calls."""
    admin = g.user.has("jurisdiction_admin")
    whose = request.args.get("whose") or ("" if g.user.has("specialist") or not admin else rules.UNASSIGNED)
    params = {"unassigned": "true"} if whose == rules.UNASSIGNED else ({"specialist": whose} if whose else {})
    reads = [("coaching", "/caseload", {"token": token(), "params": params})]
    if admin:  # withdrawn ones too: their trainers are to be given another specialist
        reads.append(_specialists_read())
    listed, *directory = backend().get_all(*reads)
    today = date.fromisoformat(listed["today"])
    items = rules.sort_caseload(listed["items"])
    specialists = directory[0]["items"] if directory else []
    return render_template(
        "coach_caseload.html",
        whose=whose,
        specialists=specialists,
        heading=rules.caseload_heading(whose, g.user.sub, specialists),
        items=items,
        follow_ups=rules.follow_ups_due(items, today),
        today=today,
        labels=rules.STATUS_LABELS,
        counts={status: sum(item["status"] == status for item in items) for status in rules.STATUS_ORDER},
    )


@blp.get("/coach/follow-ups")
@identity.signed_in
@with_coaching
def follow_ups():
    """Follow-ups due in the next two weeks, soonest first: one call."""
    listed = _caseload()
    today = date.fromisoformat(listed["today"])
    return render_template(
        "coach_follow_ups.html",
        follow_ups=rules.follow_ups_due(listed["items"], today),
        today=today,
        labels=rules.STATUS_LABELS,
        window_days=rules.FOLLOW_UP_WINDOW.days,
    )


@blp.route("/coach/activities/new", methods=["GET", "POST"])
@identity.signed_in
@with_coaching
def log_activity():
    """Log a support activity in under a minute: defaults filled in, the trainer chosen from the caseload."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        body, errors = rules.activity_body(form)
        if not errors:
            try:
                activity = backend().post("coaching", "/activities", token=token(), json=body, idempotent_create=True)
                day = current_app.jinja_env.filters["day"](activity["occurred_on"])  # as the pages show days
                flash(f"Logged: {activity['kind'].replace('_', ' ')} of {day}.")  # on the trainer's page, named
                return redirect(url_for("coaching.trainer", sub=activity["trainer"]))
            except BackendError as error:
                if error.status not in (404, 422):
                    raise
                errors = {**error.field_errors, "_form": error.message}
                if error.status == 404:
                    errors.setdefault("trainer", "No trainer of your jurisdiction has this id.")
    else:
        form = rules.activity_defaults(_today(), request.args.get("trainer"))
    trainers = _trainer_choices(form.get("trainer"))
    return render_template(
        "activity_new.html",
        form=form,
        chosen_practices=form.getlist("practices") if hasattr(form, "getlist") else [],
        errors=errors,
        trainers=trainers,
        kinds=rules.KINDS,
        modes=rules.MODES,
        practices=rules.PRACTICES,
    ), (422 if errors else 200)


def _trainer_choices(chosen: str | None) -> list[tuple[str, str]]:
    """The caseload's trainers to choose from (specialists); coaches without a caseload type the trainer's id."""
    try:
        items = _caseload()["items"]
    except BackendError as error:
        if error.status != 403:  # a coach has no caseload of their own
            raise
        items = []
    choices = [
        (item["trainer"], f"{rules.trainer_label(item)} ({rules.STATUS_LABELS.get(item['status'], item['status'])})")
        for item in rules.sort_caseload(items)
    ]
    if chosen and chosen not in {value for value, _ in choices}:
        choices.insert(0, (chosen, chosen))
    return choices


@blp.get("/coach/trainers/<sub>")
@identity.signed_in
@with_coaching
def trainer(sub: str):
    """A trainer's plan, commitment and milestones, support activities and fidelity trend: three calls."""
    return _trainer_page(sub)


def _trainer_page(sub: str, errors: dict | None = None, form=None, failed: str | None = None):
    plans, activities, trend = backend().get_all(
        ("coaching", "/plans", {"token": token(), "params": {"trainer": sub, "limit": PAGE}}),
        ("coaching", "/activities", {"token": token(), "params": {"trainer": sub, "limit": PAGE}}),
        ("coaching", "/observations/trend", {"token": token(), "params": {"trainer": sub}}),
    )
    plan = rules.latest_plan(plans["items"])
    if plan is None and not activities["items"] and not trend["observations"]:
        abort(404)
    listed = sorted(activities["items"], key=lambda a: (a["occurred_on"], a.get("created_at") or ""), reverse=True)
    name = (plan or {}).get("trainer_name")  # as they registered; scheduling gave none for some
    return render_template(
        "trainer.html",
        sub=sub,
        name=name,
        plan=plan,
        milestones=rules.milestones(plan["commitment"]) if plan else [],
        activities=listed,
        trend=trend,
        labels=rules.STATUS_LABELS,
        practice_names=dict(rules.PRACTICES),
        errors=errors or {},
        failed=failed,
        form=form if form is not None else rules.commitment_defaults(plan, name, g.user.name, _today()),
        parties=rules.SIGNING_PARTIES,
    ), (422 if errors else 200)


@blp.post("/coach/trainers/<sub>/plans/<plan_id>/<any('time-frame', delivery):what>")
@identity.signed_in
@with_coaching
def record_commitment(sub: str, plan_id: str, what: str):
    """Record the time frame agreed with the trainer, or a delivery by hand with its evidence."""
    body, errors = (rules.time_frame_body if what == "time-frame" else rules.delivery_body)(request.form)
    if not errors:
        try:
            backend().put("coaching", f"/plans/{plan_id}/{what}", token=token(), json=body)
            flash("Time frame recorded." if what == "time-frame" else "Delivery recorded: the commitment is fulfilled.")
            return redirect(url_for("coaching.trainer", sub=sub))
        except BackendError as error:
            if error.status not in (403, 409, 422):
                raise
            errors = {**rules.commitment_errors(error.field_errors), "_form": error.message}
    return _trainer_page(sub, errors, request.form, what)


@blp.route("/coach/trainers/<sub>/observations/new", methods=["GET", "POST"])
@identity.signed_in
@with_coaching
def record_observation(sub: str):
    """Record a fidelity observation of the trainer's delivery of a session: two calls to show, three to save."""
    name, cohorts = _observed(sub)
    choices = rules.cohort_choices(cohorts)
    errors: dict[str, str] = {}
    form = request.form if request.method == "POST" else rules.observation_defaults(_today(), choices)
    if request.method == "POST":
        body, errors = rules.observation_body(request.form, sub, cohorts={value for value, _ in choices})
        if not errors:
            try:
                observation = backend().post(
                    "coaching", "/observations", token=token(), json=body, idempotent_create=True
                )
                flash(f"Observation recorded: a score of {observation['score']:.0%}.")
                return redirect(url_for("coaching.trainer", sub=sub))
            except BackendError as error:
                if error.status not in (404, 422):
                    raise
                errors = {**rules.observation_errors(error.field_errors), "_form": error.message}
    return render_template(
        "observation_new.html",
        sub=sub,
        name=name,
        form=form,
        errors=errors,
        cohorts=choices,
        rows=range(rules.CHECKLIST_ROWS),
        decisions=rules.DECISIONS,
        practices=rules.PRACTICES,
    ), (422 if errors else 200)


def _observed(sub: str) -> tuple[str | None, list[dict]]:
    """The trainer's name (from their plan) and the cohorts they facilitate, where they deliver what is observed."""
    reads = [("coaching", "/plans", {"token": token(), "params": {"trainer": sub, "limit": PAGE}})]
    if backend().has("scheduling"):
        reads.append(("scheduling", "/cohorts", {"token": token(), "params": {"facilitator": sub, "limit": PAGE}}))
    plans, *cohorts = backend().get_all(*reads)
    plan = rules.latest_plan(plans["items"])
    return (plan or {}).get("trainer_name"), (cohorts[0]["items"] if cohorts else [])


@blp.get("/coach/adaptations")
@identity.signed_in
@with_coaching
def adaptations():
    """Adaptations submitted for fidelity review, each with the review form: two calls."""
    return _adaptations_page({}, None)


def _adaptations_page(errors: dict, failed: str | None, form=None):
    listed, checklist = backend().get_all(
        ("content", "/adaptations", {"token": token(), "params": {"status": "submitted", "limit": PAGE}}),
        ("content", "/adaptations/fidelity-checklist", {"token": token()}),
    )
    return render_template(
        "adaptations.html",
        adaptations=listed["items"],
        checklist=checklist["items"],
        errors=errors,
        failed=failed,
        form=form or {},
    ), (422 if errors else 200)


@blp.post("/coach/adaptations/<adaptation_id>/review")
@identity.signed_in
@with_coaching
def review_adaptation(adaptation_id: str):
    """Approve an adaptation or request changes, answering the fidelity checklist."""
    items = request.form.getlist("item")
    body = rules.review_body(request.form, items)
    try:
        backend().post(
            "content", f"/adaptations/{adaptation_id}/reviews", token=token(), json=body, idempotent_create=True
        )
    except BackendError as error:
        if error.status != 422:
            raise
        return _adaptations_page({**error.field_errors, "_form": error.message}, adaptation_id, request.form)
    flash("Approved." if body["decision"] == "approved" else "Changes requested: the facilitator has been told.")
    return redirect(url_for("coaching.adaptations"))


@blp.get("/coach/office-hours")
@identity.signed_in
@with_coaching
def office_hours():
    """The specialist's office hours and the next month's slots with their bookings.

    Three calls (their office hours and caseload at once, then the slots).
    """
    listed, caseload = backend().get_all(
        (
            "scheduling",
            "/recurring-series",
            {"token": token(), "params": {"kind": "office_hours", "owner": g.user.sub, "limit": PAGE}},
        ),
        ("coaching", "/caseload", {"token": token()}),
    )
    series = [s for s in listed["items"] if s["status"] == "active"]  # not cancelled, nor ended by a split
    chosen, slots = office_hours_slots(series)
    trainers = {item["trainer"]: rules.trainer_label(item) for item in caseload["items"]}
    return render_template("office_hours.html", series=series, chosen=chosen, slots=slots, trainers=trainers)


@blp.route("/coach/office-hours/new", methods=["GET", "POST"])
@identity.signed_in
@with_coaching
def hold_office_hours():
    """Hold weekly office hours for the facilitators chosen: the caseload's trainers, the jurisdiction's other
    facilitators by name, or user ids.

    Two calls to show (the caseload and the facilitators' directory at once); one more to hold them.
    """
    errors: dict[str, str] = {}
    form = {**rules.OFFICE_HOURS_DEFAULTS, "time_zone": g.user.zone or ""}
    if request.method == "POST":
        form = request.form
        body, errors = rules.office_hours_body(request.form)
        if not errors:
            try:
                held = backend().post(
                    "scheduling", "/recurring-series", token=token(), json=body, idempotent_create=True
                )
                flash(f"Office hours held: {held['title']}, weekly for {request.form['weeks']} weeks.")
                return redirect(url_for("coaching.office_hours", series=held["id"]))
            except BackendError as error:
                if error.status not in (409, 422):
                    raise
                errors = {**rules.office_hours_errors(error.field_errors), "_form": error.message}
    caseload, directory = backend().get_all(
        ("coaching", "/caseload", {"token": token()}),
        ("scheduling", "/facilitators", {"token": token(), "params": {"limit": PAGE}}),
    )
    return render_template(
        "office_hours_new.html",
        trainers=rules.bookers(caseload["items"], directory["items"]),
        form=form,
        ticked=set(request.form.getlist("facilitator")) if request.method == "POST" else set(),
        errors=errors,
        zones=ZONE_OPTIONS,
    ), (422 if errors else 200)


@blp.get("/my/commitment")
@identity.signed_in
@with_coaching
def my_commitment():
    """A trainer's own plan: their commitment to deliver, its due date and status, its milestones, and who
    their specialist is: one call."""
    plans = backend().get("coaching", "/plans", token=token(), params={"trainer": identity.current_user().sub})
    plan = rules.latest_plan(plans["items"])
    return render_template(
        "my_commitment.html",
        plan=plan,
        milestones=rules.milestones(plan["commitment"]) if plan else [],
        labels=rules.STATUS_LABELS,
    )


SPECIALISTS = directories.Directory(
    service="coaching",
    path="/specialists",
    endpoint="coaching.specialists",
    title="Specialists",
    one="specialist",
    lead="The Infant/Toddler Specialists of your jurisdiction by name: a trainer's specialist and the "
    "jurisdiction's default are chosen among them. A specialist is listed once they sign in or log support. "
    "One withdrawn (who left) is no longer offered; the plans that name them still do until you assign "
    "their trainers another specialist.",
    offered="Offered for plans",
    withdrawn="no longer offered for plans; the plans that name them still do.",
)


@blp.route("/coach/specialists", methods=["GET", "POST"])
@identity.signed_in
@with_coaching
def specialists():
    """The jurisdiction's specialists by name; jurisdiction admins enter, withdraw or offer one again. One call
    to show, one more to change."""
    also = ((url_for("coaching.settings"), "Coaching settings"),)
    return directories.page(SPECIALISTS, also if g.user.has("jurisdiction_admin") else ())


def _specialists_read() -> tuple[str, str, dict]:
    """The jurisdiction's specialists by name, withdrawn ones too (a plan or setting may still name one)."""
    return ("coaching", "/specialists", {"token": token(), "params": {"limit": PAGE, "include_withdrawn": "true"}})


@blp.route("/coach/trainers/<sub>/plans/<plan_id>/specialist", methods=["GET", "POST"])
@identity.signed_in
@with_coaching
def choose_specialist(sub: str, plan_id: str):
    """A jurisdiction admin chooses the specialist who supports a trainer, by name: two calls; one more to save."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        chosen = rules.chosen_specialist(request.form)
        errors = {} if chosen else {"specialist": "Choose a specialist, or enter their user id."}
        if chosen:
            try:
                path = f"/plans/{plan_id}"
                backend().call("PATCH", "coaching", path, token=token(), json={"specialist": chosen})
                flash("The trainer's specialist is changed: the new one sees them in their caseload.")
                return redirect(url_for("coaching.trainer", sub=sub))
            except BackendError as error:
                if error.status not in (403, 404, 422):
                    raise
                errors = {**rules.specialist_errors(error.field_errors, "specialist"), "_form": error.message}
    plan, directory = backend().get_all(
        ("coaching", f"/plans/{plan_id}", {"token": token()}),
        _specialists_read(),
    )
    if plan["trainer"] != sub:
        abort(404)
    return render_template(
        "coach_specialist.html",
        plan=plan,
        specialists=rules.specialists_offered(directory["items"], plan.get("specialist")),
        current=next((s for s in directory["items"] if s["sub"] == plan.get("specialist")), None),
        chosen=request.form.get("specialist") if request.method == "POST" else plan.get("specialist"),
        form=request.form,
        errors=errors,
    ), (422 if errors else 200)


@blp.route("/coach/settings", methods=["GET", "POST"])
@identity.signed_in
@with_coaching
def settings():
    """The jurisdiction's default specialist (by name) and time frame for new plans: two calls; one more to save."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        months = request.form.get("default_time_frame_months", "").strip()
        body = {"default_specialist": rules.chosen_specialist(request.form)}
        if months.isdigit() and 1 <= int(months) <= 60:
            body["default_time_frame_months"] = int(months)
        else:
            errors["default_time_frame_months"] = "Enter the months, from 1 to 60."
        if not errors:
            try:
                backend().call("PATCH", "coaching", "/settings", token=token(), json=body)
                flash("Saved: plans opened from now on start with these.")
                return redirect(url_for("coaching.settings"))
            except BackendError as error:
                if error.status not in (403, 422):
                    raise
                errors = {**rules.specialist_errors(error.field_errors, "default_specialist"), "_form": error.message}
    current, directory = backend().get_all(("coaching", "/settings", {"token": token()}), _specialists_read())
    form = request.form if request.method == "POST" else {
        "default_time_frame_months": str(current["default_time_frame_months"])
    }  # fmt: skip
    return render_template(
        "coach_settings.html",
        settings=current,
        specialists=rules.specialists_offered(directory["items"], current.get("default_specialist")),
        chosen=request.form.get("specialist") if request.method == "POST" else current.get("default_specialist"),
        form=form,
        errors=errors,
    ), (422 if errors else 200)


@blp.get("/coach/report")
@identity.signed_in
@with_coaching
def report():
    """The jurisdiction's coaching figures (commitments, support, fidelity, the cascade's reach): three calls.
    National staff see every jurisdiction's headline figures, withheld where it has not consented: two."""
    if g.user.has("national_admin"):
        summary, reach = backend().get_all(
            ("coaching", "/reports/national", {"token": token()}), ("coaching", "/reach/national", {"token": token()})
        )
        return render_template(
            "coach_report_national.html",
            rows=rules.national_report(summary["items"], reach["items"]),
            statuses=[rules.STATUS_LABELS[s] for s in rules.STATUS_ORDER],
            today=summary["today"],
            totals=reach,
        )
    reads = [("coaching", "/reports/summary", {"token": token()}), ("coaching", "/reach", {"token": token()})]
    if backend().has("scheduling"):  # to name the training-for-trainers cohorts
        reads.append(("scheduling", "/cohorts", {"token": token(), "params": {"limit": PAGE}}))
    summary, reach, *cohorts = backend().get_all(*reads)
    titles = {c["id"]: c["title"] for c in cohorts[0]["items"]} if cohorts else {}
    return render_template(
        "coach_report.html", summary=summary, figures=rules.report(summary, reach, titles), today=summary["today"]
    )


@blp.get("/coach/report.csv")
@identity.signed_in
@with_coaching
def report_csv():
    """The figures as the API's CSV rows (jurisdiction, measure, key, value), for a spreadsheet: one call."""
    path = "/reports/national" if g.user.has("national_admin") else "/reports/summary"
    answer = backend().call("GET", "coaching", path, token=token(), params={"format": "csv"}, accept="text/csv")
    filename = "coaching-national.csv" if g.user.has("national_admin") else f"coaching-{g.user.tenant}.csv"
    return Response(
        answer.text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@blp.post("/coach/settings/consent")
@identity.signed_in
@with_coaching
def change_consent():
    """A jurisdiction admin grants or withdraws consent to national roll-ups of its coaching figures: one call."""
    granted = request.form.get("national_roll_ups") == "yes"
    backend().put("coaching", "/consent", token=token(), json={"national_roll_ups": granted})
    flash(
        "National roll-ups now include your jurisdiction's coaching figures."
        if granted
        else "National roll-ups no longer include your jurisdiction's coaching figures: they are named as withheld."
    )
    return redirect(url_for("coaching.settings"))
