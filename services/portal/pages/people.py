"""Each person's own pages: where to start, a participant's training, a facilitator's sessions, their calendar feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from services.portal import identity
from services.portal.backend import BackendError
from services.portal.pages import backend, token
from services.portal.pages.notifications import LANGUAGES as EMAIL_LANGUAGES
from services.portal.schedule import attendance_state, calendar_months, to_summarize
from services.portal.zones import ZONE_CHOICES

blp = Blueprint("people", __name__)

OFFICE_HOURS_AHEAD = timedelta(days=31)
RECENT = timedelta(days=60)  # past sessions still shown: a certificate or a correction may follow them
PAGE = 200
MAX_CALLS = 3  # a page makes at most three API calls


@blp.get("/")
def home():
    user = identity.fresh_user()
    if user is None:
        return render_template("welcome.html")
    if user.manages:
        return redirect(url_for("cohorts.list_cohorts"))
    if user.has("specialist") and backend().has("coaching"):
        return redirect(url_for("coaching.caseload"))
    if user.has("facilitator"):
        return redirect(url_for("people.my_sessions"))
    return redirect(url_for("people.my_training"))


def _zone_params() -> dict:
    return {"viewer_time_zone": g.user.zone} if g.user.zone else {}


@blp.get("/my/training")
@identity.signed_in
def my_training():
    """A participant's registrations, sessions (times in their zone), materials and certificate: three calls at most."""
    registrations = backend().get("scheduling", "/me/registrations", token=token(), params={"limit": PAGE})["items"]
    active = [r for r in registrations if r["status"] != "cancelled"]
    cohort_ids = {r["cohort_id"] for r in active}
    every_cohort = {r["cohort_id"] for r in registrations}  # a cancelled registration's cohort is named too
    titles: dict[str, str] = {}
    sessions: list[dict] = []
    zone = _zone_params()
    if len(cohort_ids) == 1 and every_cohort == cohort_ids:
        (cohort_id,) = cohort_ids
        cohort, listed = backend().get_all(
            ("scheduling", f"/cohorts/{cohort_id}", {"token": token()}),
            ("scheduling", f"/cohorts/{cohort_id}/sessions", {"token": token(), "params": {"limit": PAGE, **zone}}),
        )
        titles[cohort_id] = cohort["title"]
        sessions = listed["items"]
    elif every_cohort:
        since = (datetime.now(UTC) - RECENT).isoformat()
        # Her own schedule and cohorts, not the first pages of her jurisdiction's (thousands in a big state).
        listed, cohorts = backend().get_all(
            (
                "scheduling",
                "/sessions",
                {"token": token(), "params": {"registered": "true", "from": since, "limit": PAGE, **zone}},
            ),
            ("scheduling", "/cohorts", {"token": token(), "params": {"registered": "true", "limit": PAGE}}),
        )
        sessions = [s for s in listed["items"] if s["cohort_id"] in cohort_ids]
        titles = {c["id"]: c["title"] for c in cohorts["items"] if c["id"] in every_cohort}
    confirmed = {r["cohort_id"] for r in active if r["status"] == "confirmed"}
    sessions = [s for s in sessions if s["cohort_id"] in confirmed]
    now = datetime.now(UTC)
    over = {s["id"] for s in sessions if datetime.fromisoformat(s["ends_at"]) <= now}  # no meeting to join
    return render_template(
        "my_training.html",
        registrations=registrations,
        titles=titles,
        sessions=sessions,
        over=over,
        months=calendar_months(sessions),
        zones=ZONE_CHOICES,
    )


@blp.get("/my/sessions")
@identity.signed_in
def my_sessions():
    """A facilitator's sessions, recent and coming, each with its attendance sheet and how far it is taken.

    Their sessions in pages (one call, up to two), then one summary of the attendance of those begun.
    """
    since = (datetime.now(UTC) - RECENT).isoformat()
    mine, params = [], {"from": since, "facilitator": g.user.sub, "limit": PAGE, **_zone_params()}
    for _ in range(MAX_CALLS - 1):
        page = backend().get("scheduling", "/sessions", token=token(), params=params)
        mine += page["items"]
        if not page.get("next_cursor"):
            break
        params = {**params, "cursor": page["next_cursor"]}
    asked = to_summarize(mine, datetime.now(UTC))
    summaries = {}
    if asked:
        listed = backend().get("scheduling", "/attendance-summaries", token=token(), params={"session_id": asked})
        summaries = {item["session_id"]: item for item in listed["items"]}
    states = {s["id"]: attendance_state(summaries.get(s["id"])) for s in mine}
    return render_template(
        "my_sessions.html", sessions=mine, states=states, months=calendar_months(mine), zones=ZONE_CHOICES
    )


@blp.get("/trainings")
@identity.signed_in
def trainings():
    """The jurisdiction's cohorts open for registration with a session ahead, their next session and seats
    left: three calls at once."""
    now = datetime.now(UTC)
    since = now.replace(microsecond=0).isoformat()  # whole seconds in the query; the comparisons below are exact
    cohorts, sessions, mine = backend().get_all(
        (
            "scheduling",
            "/cohorts",
            {"token": token(), "params": {"status": "open", "session_from": since, "limit": PAGE}},
        ),
        (
            "scheduling",
            "/sessions",
            {"token": token(), "params": {"from": since, "limit": PAGE, **_zone_params()}},
        ),
        ("scheduling", "/me/registrations", {"token": token(), "params": {"limit": PAGE}}),
    )
    first: dict[str, dict] = {}
    for session_ in sessions["items"]:  # in time order: the first seen is the cohort's next session
        if session_["status"] != "cancelled":
            first.setdefault(session_["cohort_id"], session_)
    # A cohort missing from a full page of the jurisdiction's next sessions starts after its last one.
    later_than = sessions["items"][-1] if len(sessions["items"]) >= PAGE else None
    registered = {r["cohort_id"]: r for r in mine["items"] if r["status"] != "cancelled"}
    listed = sorted(
        (c for c in cohorts["items"] if registrable(c, g.user.sub, now)),
        key=lambda c: (first.get(c["id"], {}).get("starts_at") or "9999", c["title"]),
    )
    opening = {
        c["id"]: opens_at
        for c in listed
        if (opens_at := c.get("registration_opens_at")) and datetime.fromisoformat(opens_at) > now
    }
    return render_template(
        "trainings.html", cohorts=listed, first=first, later_than=later_than, registered=registered, opening=opening
    )


def registrable(cohort: dict, sub: str, now: datetime) -> bool:
    """Whether a person may still register for an open cohort: not one they facilitate (theirs to deliver),
    nor one whose registration has closed. One that opens later is shown with its opening."""
    closes_at = cohort.get("registration_closes_at")
    if closes_at and datetime.fromisoformat(closes_at) <= now:
        return False
    return sub not in (cohort.get("facilitators") or [])


@blp.route("/trainings/<cohort_id>/register", methods=["GET", "POST"])
@identity.signed_in
def register_myself(cohort_id: str):
    """Register oneself for a cohort: a seat, the waitlist, or (where the cohort asks) approval first.

    One call to show; one more to register.
    """
    form = request.form if request.method == "POST" else {"name": g.user.name if g.user.name != g.user.sub else ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        body = {
            "name": form.get("name", "").strip(),
            "email": form.get("email", "").strip(),
            "registry_id": form.get("registry_id", "").strip() or None,
            "language": form.get("language") or None,
        }
        try:
            registration = backend().post(
                "scheduling", f"/cohorts/{cohort_id}/registrations", token=token(), json=body, idempotent_create=True
            )
            flash(SELF_REGISTERED[registration["status"]].format(position=registration.get("waitlist_position")))
            return redirect(url_for("people.my_training"))
        except BackendError as error:
            if error.status not in (409, 422):
                raise
            errors = {**error.field_errors, "_form": error.message}
    cohort = backend().get("scheduling", f"/cohorts/{cohort_id}", token=token())
    return render_template(
        "register_myself.html", cohort=cohort, form=form, errors=errors, email_languages=EMAIL_LANGUAGES
    ), (422 if errors else 200)


# What a person reads after registering, by the registration's status.
SELF_REGISTERED = {
    "confirmed": "You have a seat. Your invitation is on its way by e-mail.",
    "waitlisted": "The cohort is full: you are number {position} on its waitlist, and get a seat as one frees up.",
    "pending_approval": "Registered: the host agency approves registrations to this cohort; you will hear by e-mail.",
}


@blp.post("/my/registrations/<registration_id>/cancel")
@identity.signed_in
def cancel_my_registration(registration_id: str):
    """Give up one's seat, waitlist place or pending registration; the first person waiting gets the seat."""
    try:
        backend().post("scheduling", f"/registrations/{registration_id}/cancel", token=token(), json={})
        flash("Your registration is cancelled. Your invitations are withdrawn by e-mail.")
    except BackendError as error:
        if error.status not in (403, 404, 409, 422):
            raise
        flash(f"Not cancelled: {error.message}", "error")
    return redirect(url_for("people.my_training"))


@blp.route("/my/hours", methods=["GET", "POST"])
@identity.signed_in
def my_hours():
    """What the person's registry receives: their hours here (from attendance), each session's mark behind them,
    and the training they report taking elsewhere, with the form to report one. Three calls, one more to report."""
    errors: dict[str, str] = {}
    form = request.form
    if not g.user.has("participant"):
        return render_template(
            "my_hours.html", here=[], marks={}, entries=[], titles={}, form={}, errors={}, participant=False
        )
    if request.method == "POST":
        body, errors = reported_hours_body(form)
        if not errors:
            try:
                backend().post(
                    "scheduling", "/training-hours/self-reported", token=token(), json=body, idempotent_create=True
                )
                flash(f"Reported: {body['title']}, {body['minutes'] / 60:g} hours.")
                return redirect(url_for("people.my_hours"))
            except BackendError as error:
                if error.status != 422:
                    raise
                errors = {
                    **{("hours" if k == "minutes" else k): v for k, v in error.field_errors.items()},
                    "_form": error.message,
                }
    rows, cohorts, marked = backend().get_all(
        ("scheduling", "/training-hours", {"token": token(), "params": {"limit": PAGE}}),
        ("scheduling", "/cohorts", {"token": token(), "params": {"registered": "true", "limit": PAGE}}),
        ("scheduling", "/me/attendance", {"token": token(), "params": {"limit": PAGE}}),
    )
    here = [row for row in rows["items"] if row["verification"] == "verified"]
    marks: dict[str, list[dict]] = {}  # cohort id -> its sessions' marks, in the sessions' order
    for mark in marked["items"]:
        marks.setdefault(mark["cohort_id"], []).append(mark)
    entries = sorted(
        (row for row in rows["items"] if row["verification"] == "self_reported"),
        key=lambda e: e["completed_on"],
        reverse=True,
    )
    return render_template(
        "my_hours.html",
        here=here,
        marks=marks,
        entries=entries,
        titles={c["id"]: c["title"] for c in cohorts["items"]},
        form=form,
        errors=errors,
        participant=True,
    ), (422 if errors else 200)


def reported_hours_body(form) -> tuple[dict, dict]:
    """The API's body for a training reported by the person, hours given in quarters; errors found before asking."""
    errors: dict[str, str] = {}
    minutes = 0
    try:
        hours = float((form.get("hours") or "").strip())
        minutes = round(hours * 60)
        if not 1 <= minutes <= 6000:
            raise ValueError
    except ValueError:
        errors["hours"] = "Enter the hours, such as 2 or 1.5 (at most 100)."
    body = {
        "title": (form.get("title") or "").strip(),
        "provider": (form.get("provider") or "").strip(),
        "completed_on": form.get("completed_on") or "",
        "minutes": minutes,
        "registry_id": (form.get("registry_id") or "").strip() or None,
    }
    return body, errors


@blp.get("/my/office-hours")
@identity.signed_in
def my_office_hours():
    """The office hours a facilitator may book, the next month's slots, theirs booked: two calls."""
    listed = backend().get(
        "scheduling", "/recurring-series", token=token(), params={"kind": "office_hours", "limit": PAGE}
    )["items"]
    series = [s for s in listed if s["status"] == "active" and g.user.sub in (s.get("supported_facilitators") or [])]
    chosen, slots = office_hours_slots(series)
    return render_template("my_office_hours.html", series=series, chosen=chosen, slots=slots)


def office_hours_slots(series: list[dict]) -> tuple[dict | None, list[dict]]:
    """The office hours asked for (``?series=``, else the first) and its slots of the next 31 days: one call."""
    chosen = next((s for s in series if s["id"] == request.args.get("series")), series[0] if series else None)
    if chosen is None:
        return None, []
    now = datetime.now(UTC).replace(microsecond=0)
    slots = backend().get(
        "scheduling",
        f"/office-hours/{chosen['id']}/slots",
        token=token(),
        params={"from": now.isoformat(), "to": (now + OFFICE_HOURS_AHEAD).isoformat()},
    )["items"]
    return chosen, slots


@blp.post("/my/office-hours/<series_id>/book")
@identity.signed_in
def book_office_hours(series_id: str):
    """Book one slot, with what the facilitator wants to talk about."""
    body = {"slot_start": request.form.get("slot_start", ""), "topic": request.form.get("topic", "").strip()}
    try:
        backend().post(
            "scheduling", f"/office-hours/{series_id}/bookings", token=token(), json=body, idempotent_create=True
        )
        flash("Booked: the slot is yours, and in your calendar feed.")
    except BackendError as error:
        if error.status not in (409, 422):
            raise
        flash(f"Not booked: {error.message}", "error")
    return redirect(url_for("people.my_office_hours", series=series_id))


@blp.post("/my/office-hours/<series_id>/bookings/<booking_id>/cancel")
@identity.signed_in
def cancel_office_hours(series_id: str, booking_id: str):
    """Give a booked slot back."""
    try:
        backend().post("scheduling", f"/office-hours/{series_id}/bookings/{booking_id}/cancel", token=token())
        flash("Your booking is cancelled; the slot is open again.")
    except BackendError as error:
        if error.status not in (409, 422):
            raise
        flash(f"Not cancelled: {error.message}", "error")
    return redirect(url_for("people.my_office_hours", series=series_id))


@blp.post("/my/zone")
@identity.signed_in
def choose_zone():
    """Show times in another zone from now on (kept in the person's session)."""
    zone = identity.zone_or_none(request.form.get("zone"))
    data = dict(session["user"])
    data["zone"] = zone
    session["user"] = data
    return redirect(identity.safe_next(request.form.get("next")))


@blp.post("/my/calendar-feed")
@identity.signed_in
def calendar_feed():
    """Create a private calendar feed; its address is shown this once (the service keeps only its hash)."""
    kind = "facilitator" if g.user.has("facilitator", "specialist") else "participant"
    feed = backend().post("scheduling", "/calendar-feeds", token=token(), json={"kind": kind})
    return render_template("calendar_feed.html", feed=feed)
