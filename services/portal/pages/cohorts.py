"""A host agency's pages: training requests, cohorts and their sessions, registrations and the waitlist, rosters."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, g, redirect, render_template, request, stream_with_context, url_for

from services.portal import identity
from services.portal.backend import BackendError
from services.portal.forms import chosen_facilitators, facilitators_shown, folded_errors, split_ids
from services.portal.pages import backend, directories, token
from services.portal.pages.notifications import LANGUAGES as EMAIL_LANGUAGES
from services.portal.schedule import calendar_months
from services.portal.zones import ZONE_OPTIONS

blp = Blueprint("cohorts", __name__)
FORMATS = (("virtual", "Virtual"), ("in_person", "In person"), ("hybrid", "Hybrid"))
PAGE = 200


def _agencies_and_series(*also: tuple[str, str, dict]) -> list[list[dict]]:
    """The jurisdiction's host agencies and the series, and the items of ``also``'s reads: at once."""
    return [
        page["items"]
        for page in backend().get_all(
            ("scheduling", "/agencies", {"token": token(), "params": {"limit": PAGE}}),
            ("content", "/series", {"token": token(), "params": {"limit": PAGE}}),
            *also,
        )
    ]


def _directory_read(jurisdiction: str | None = None) -> tuple[str, str, dict]:
    """The read of the jurisdiction's facilitators by name, for the forms that choose them."""
    params = {"limit": PAGE, **({"jurisdiction": jurisdiction} if jurisdiction else {})}
    return ("scheduling", "/facilitators", {"token": token(), "params": params})


def _directory(jurisdiction: str) -> list[dict]:
    """A jurisdiction's facilitators by name, read alone (national staff name the jurisdiction)."""
    service, path, kwargs = _directory_read(jurisdiction)
    return backend().get(service, path, **kwargs)["items"]


def _ticked(form) -> set[str]:
    return set(form.getlist("facilitator"))


def _facilitators(form) -> list[str]:
    return chosen_facilitators(form.getlist("facilitator"), form.get("facilitators", ""))


def _integer(form, name: str, errors: dict) -> int | None:
    value = form.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        errors[name] = "Enter a whole number."
        return None


@blp.get("/requests")
@identity.signed_in
def list_requests():
    """The jurisdiction's training requests and where each stands."""
    requests_ = backend().get("scheduling", "/requests", token=token(), params={"limit": PAGE})["items"]
    return render_template("requests.html", requests=requests_)


@blp.route("/requests/<request_id>/decision", methods=["GET", "POST"])
@identity.signed_in
def decide_request(request_id):
    """National staff approve a request into a cohort (its settings) or decline it with a reason."""
    training_request = backend().get("scheduling", f"/requests/{request_id}", token=token())
    form, errors = request.form, {}
    if request.method == "POST":
        if form.get("decision") == "decline":
            path, body = f"/requests/{request_id}/decline", {"reason": form.get("reason", "")}
        else:
            path = f"/requests/{request_id}/approve"
            body = {"title": form.get("title", ""), "facilitators": _facilitators(form)}
            for name in ("capacity", "completion_minimum"):
                value = _integer(form, name, errors)
                if value is not None:
                    body[name] = value
        if not errors:
            try:
                decided = backend().post("scheduling", path, token=token(), json=body)
            except BackendError as error:
                if error.status not in (409, 422):
                    raise
                errors = {**folded_errors(error.field_errors, "facilitators"), "_form": error.message}
            else:
                if decided.get("cohort_id"):
                    flash("Approved: its cohort is ready to be scheduled.")
                    return redirect(url_for("cohorts.cohort", cohort_id=decided["cohort_id"]))
                flash("Declined; the requester is told why.")
                return redirect(url_for("cohorts.list_requests"))
    return render_template(
        "request_decision.html",
        training_request=training_request,
        directory=_directory(training_request["tenant"]) if g.user.has("national_admin") else [],
        ticked=_ticked(form),
        form=form,
        defaults={"capacity": training_request.get("expected_participants") or "", "completion_minimum": 9},
        errors=errors,
    ), (422 if errors else 200)


@blp.route("/requests/new", methods=["GET", "POST"])
@identity.signed_in
def request_series():
    """Ask for the series for a host agency: format, preferred window, expected participants."""
    form, errors = request.form, {}
    if request.method == "POST":
        body = {
            "series_id": form.get("series_id", ""),
            "format": form.get("format", ""),
            "host_agency_id": form.get("host_agency_id") or None,
            "notes": form.get("notes", ""),
        }
        expected = _integer(form, "expected_participants", errors)
        if expected is not None:
            body["expected_participants"] = expected
        if form.get("starts_on") or form.get("ends_on"):
            body["preferred_windows"] = [{"starts_on": form.get("starts_on", ""), "ends_on": form.get("ends_on", "")}]
        if not errors:
            try:
                backend().post("scheduling", "/requests", token=token(), json=body, idempotent_create=True)
                return redirect(url_for("cohorts.list_requests", sent=1))
            except BackendError as error:
                if error.status != 422:
                    raise
                errors = {key.replace("preferred_windows.0.", ""): value for key, value in error.field_errors.items()}
                errors.setdefault("_form", error.message)
    agencies, series = _agencies_and_series()
    return render_template(
        "request_new.html", agencies=agencies, series=series, formats=FORMATS, form=form, errors=errors
    ), (422 if errors else 200)


@blp.get("/cohorts")
@identity.signed_in
def list_cohorts():
    """The cohorts of the jurisdiction, newest change first."""
    cohorts = backend().get("scheduling", "/cohorts", token=token(), params={"limit": PAGE})["items"]
    return render_template("cohorts.html", cohorts=cohorts)


@blp.route("/cohorts/new", methods=["GET", "POST"])
@identity.signed_in
def new_cohort():
    """Create a cohort for a host agency directly (a national admin approves requests into cohorts too)."""
    form, errors = request.form, {}
    if request.method == "POST":
        body = {
            "series_id": form.get("series_id", ""),
            "title": form.get("title", ""),
            "format": form.get("format", ""),
            "host_agency_id": form.get("host_agency_id") or None,
            "facilitators": _facilitators(form),
            "requires_approval": form.get("requires_approval") == "yes",
        }
        for name in ("capacity", "completion_minimum"):
            value = _integer(form, name, errors)
            if value is not None:
                body[name] = value
        if "capacity" not in body and "capacity" not in errors:
            errors["capacity"] = "Enter the number of seats."
        if form.get("time_zone"):
            body["time_zone"] = form["time_zone"]
        if not errors:
            try:
                cohort = backend().post("scheduling", "/cohorts", token=token(), json=body, idempotent_create=True)
                return redirect(url_for("cohorts.schedule", cohort_id=cohort["id"]))
            except BackendError as error:
                if error.status != 422:
                    raise
                errors = {**folded_errors(error.field_errors, "facilitators"), "_form": error.message}
    agencies, series, directory = _agencies_and_series(_directory_read())
    return render_template(
        "cohort_new.html",
        agencies=agencies,
        series=series,
        directory=directory,
        ticked=_ticked(form),
        formats=FORMATS,
        zones=ZONE_OPTIONS,
        form=form,
        errors=errors,
    ), (422 if errors else 200)


def _cohort_page(cohort_id: str, *, form=None, errors=None, status: int = 200):
    """The cohort: its sessions as a list and a calendar, its registrations and waitlist. Three calls."""
    zone = {"viewer_time_zone": g.user.zone} if g.user.zone else {}
    cohort, sessions, registrations = backend().get_all(
        ("scheduling", f"/cohorts/{cohort_id}", {"token": token()}),
        ("scheduling", f"/cohorts/{cohort_id}/sessions", {"token": token(), "params": {"limit": PAGE, **zone}}),
        ("scheduling", f"/cohorts/{cohort_id}/registrations", {"token": token(), "params": {"limit": PAGE}}),
    )
    sessions, registrations = sessions["items"], registrations["items"]
    waitlist = sorted(
        (r for r in registrations if r["status"] == "waitlisted"), key=lambda r: r.get("waitlist_position") or 0
    )
    return render_template(
        "cohort.html",
        cohort=cohort,
        sessions=sessions,
        months=calendar_months(sessions),
        registrations=[r for r in registrations if r["status"] != "waitlisted"],
        waitlist=waitlist,
        pending=sum(r["status"] == "pending_approval" for r in registrations),
        form=form or {},
        errors=errors or {},
        email_languages=EMAIL_LANGUAGES,
    ), status


@blp.get("/cohorts/<cohort_id>")
@identity.signed_in
def cohort(cohort_id):
    return _cohort_page(cohort_id)


@blp.post("/cohorts/<cohort_id>/registrations")
@identity.signed_in
def register(cohort_id):
    """Register someone (a seat while one is free, else the waitlist)."""
    form = request.form
    body = {"name": form.get("name", ""), "email": form.get("email", "")}
    if form.get("registry_id", "").strip():
        body["registry_id"] = form["registry_id"].strip()
    if form.get("language"):
        body["language"] = form["language"]
    # Someone registered by a manager is never the manager: without an id given, the person is keyed by
    # their registry id, else their e-mail address (the API would register the caller).
    body["participant"] = (
        form.get("participant", "").strip() or body.get("registry_id") or form.get("email", "").strip().lower()
    )
    if not body["participant"]:
        message = "Give their e-mail address (or their participant id)."
        return _cohort_page(cohort_id, form=form, errors={"email": message, "_form": message}, status=422)
    try:
        registration = backend().post(
            "scheduling", f"/cohorts/{cohort_id}/registrations", token=token(), json=body, idempotent_create=True
        )
    except BackendError as error:
        if error.status not in (409, 422):
            raise
        return _cohort_page(cohort_id, form=form, errors={**error.field_errors, "_form": error.message}, status=422)
    flash(f"{registration['name']}: {registration['status'].replace('_', ' ')}")
    return redirect(url_for("cohorts.cohort", cohort_id=cohort_id) + "#registrations")


@blp.post("/registrations/<registration_id>/<any(approve, decline, cancel):action>")
@identity.signed_in
def decide(registration_id, action):
    """Approve a pending registration, decline it, or cancel one (its seat goes to the waitlist)."""
    body = {"reason": request.form["reason"]} if request.form.get("reason") else None
    registration = backend().post("scheduling", f"/registrations/{registration_id}/{action}", token=token(), json=body)
    flash(f"{registration['name']}: {registration['status'].replace('_', ' ')}")
    return redirect(url_for("cohorts.cohort", cohort_id=registration["cohort_id"]) + "#registrations")


@blp.post("/cohorts/<cohort_id>/roster")
@identity.signed_in
def roster(cohort_id):
    """Upload a roster CSV; show the row report (who was registered, each rejected line and why)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _cohort_page(cohort_id, errors={"file": "Choose a CSV file to upload."}, status=422)
    files = {"file": (upload.filename, upload.stream, upload.mimetype or "text/csv")}
    try:
        report = backend().post("scheduling", f"/cohorts/{cohort_id}/roster", token=token(), files=files)
    except BackendError as error:
        if error.status not in (413, 415, 422):
            raise
        return _cohort_page(cohort_id, errors={**error.field_errors, "_form": error.message}, status=422)
    return render_template("roster_report.html", report=report, cohort_id=cohort_id)


@blp.route("/cohorts/<cohort_id>/schedule", methods=["GET", "POST"])
@identity.signed_in
def schedule(cohort_id):
    """Schedule the series' sessions: one per module, a set number of days apart, at one local time."""
    cohort = backend().get("scheduling", f"/cohorts/{cohort_id}", token=token())
    modules = backend().get("content", f"/series/{cohort['series_id']}/modules", token=token())["items"]
    rooms = []
    if cohort["format"] != "virtual" and cohort.get("host_agency_id"):
        venues = backend().get("scheduling", f"/agencies/{cohort['host_agency_id']}/venues", token=token())["items"]
        rooms = [(room, venue) for venue in venues for room in venue.get("rooms", [])]
    form, errors, scheduled = request.form, {}, []
    if request.method == "POST":
        errors = _check_schedule_form(form)
        if not errors:
            zone = ZoneInfo(cohort["time_zone"])
            first = datetime.fromisoformat(form["first_start"]).replace(tzinfo=zone)
            length = timedelta(minutes=round(float(form["hours"]) * 60))
            gap = timedelta(days=int(form["days_apart"]))
            chosen = [m for m in modules if m["id"] in form.getlist("module")]
            for index, module in enumerate(chosen):
                starts = first + gap * index
                body = {
                    "module_id": module["id"],
                    "module_position": module["position"],
                    "title": module["title"],
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + length).isoformat(),
                }
                if form.get("meeting_url"):
                    body["meeting_url"] = form["meeting_url"]
                if form.get("room_id"):
                    body["room_id"] = form["room_id"]
                try:
                    backend().post(
                        "scheduling", f"/cohorts/{cohort_id}/sessions", token=token(), json=body, idempotent_create=True
                    )
                except BackendError as error:
                    if error.status not in (409, 422):
                        raise
                    errors = {**error.field_errors, "_form": f"Session {module['position']}: {error.message}"}
                    break
                scheduled.append(module["position"])
            if not errors:
                flash(f"{len(scheduled)} sessions scheduled")
                return redirect(url_for("cohorts.cohort", cohort_id=cohort_id))
    return render_template(
        "schedule.html", cohort=cohort, modules=modules, rooms=rooms, form=form, errors=errors, scheduled=scheduled
    ), (422 if errors else 200)


@blp.route("/agencies", methods=["GET", "POST"])
@identity.signed_in
def agencies():
    """The jurisdiction's host agencies; jurisdiction admins add one. One call to show, one more to add."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        body = {
            "name": request.form.get("name", "").strip(),
            "email": request.form.get("email", "").strip() or None,
            "phone": request.form.get("phone", "").strip() or None,
            "coordinators": split_ids(request.form.get("coordinators", "")),
        }
        try:
            agency = backend().post("scheduling", "/agencies", token=token(), json=body, idempotent_create=True)
            flash(f"Host agency added: {agency['name']}. Add its venues and rooms here.")
            return redirect(url_for("cohorts.agency", agency_id=agency["id"]))
        except BackendError as error:
            if error.status not in (403, 422):
                raise
            errors = {**error.field_errors, "_form": error.message}
    listed = backend().get("scheduling", "/agencies", token=token(), params={"limit": PAGE})["items"]
    listed.sort(key=lambda a: a["name"].casefold())
    return render_template("agencies.html", agencies=listed, form=request.form, errors=errors), (422 if errors else 200)


FACILITATORS = directories.Directory(
    service="scheduling",
    path="/facilitators",
    endpoint="cohorts.facilitators",
    title="Facilitators",
    one="facilitator",
    lead="The facilitators of your jurisdiction by name: the forms that choose facilitators offer them. A "
    "facilitator is listed once they sign in. One withdrawn (who left, or stopped facilitating) is no longer "
    "offered, and is still named on the certificates of the cohorts they facilitated.",
    offered="Offered by the forms",
    withdrawn="forms no longer offer them; certificates still name them.",
)


@blp.route("/facilitators", methods=["GET", "POST"])
@identity.signed_in
def facilitators():
    """The jurisdiction's facilitators by name, found by part of it; jurisdiction admins enter one who has not
    signed in yet (or rename one), withdraw one, or offer one again. One call to show, one more to change."""
    return directories.page(FACILITATORS)


@blp.route("/agencies/<agency_id>", methods=["GET", "POST"])
@identity.signed_in
def agency(agency_id: str):
    """A host agency, its venues and their rooms; its managers add a venue or a room. Two calls; one more to add."""
    errors: dict[str, str] = {}
    action = request.form.get("action")
    if request.method == "POST":
        try:
            if action == "venue":
                body = {key: request.form.get(key, "").strip() for key in ("name", "address", "time_zone")}
                venue = backend().post(
                    "scheduling", f"/agencies/{agency_id}/venues", token=token(), json=body, idempotent_create=True
                )
                flash(f"Venue added: {venue['name']}.")
            else:
                body = {
                    "name": request.form.get("room_name", "").strip(),
                    "accessibility_notes": request.form.get("accessibility_notes", "").strip(),
                }
                seats = _integer(request.form, "capacity", errors)
                if seats is None and "capacity" not in errors:
                    errors["capacity"] = "Enter how many people the room holds."
                if not request.form.get("venue_id"):
                    errors["venue_id"] = "Choose the venue."
                if not errors:
                    room = backend().post(
                        "scheduling",
                        f"/venues/{request.form['venue_id']}/rooms",
                        token=token(),
                        json={**body, "capacity": seats},
                        idempotent_create=True,
                    )
                    flash(f"Room added: {room['name']}.")
            if not errors:
                return redirect(url_for("cohorts.agency", agency_id=agency_id))
        except BackendError as error:
            if error.status not in (403, 404, 422):
                raise
            shown = error.field_errors
            if action == "room" and "name" in shown:  # the room form's name field is room_name
                shown["room_name"] = shown.pop("name")
            errors = {**shown, "_form": error.message}
    found, venues = backend().get_all(
        ("scheduling", f"/agencies/{agency_id}", {"token": token()}),
        ("scheduling", f"/agencies/{agency_id}/venues", {"token": token(), "params": {"limit": PAGE}}),
    )
    return render_template(
        "agency.html",
        agency=found,
        venues=venues["items"],
        form=request.form,
        action=action,
        errors=errors,
        zones=ZONE_OPTIONS,
    ), (422 if errors else 200)


@blp.route("/cohorts/<cohort_id>/settings", methods=["GET", "POST"])
@identity.signed_in
def cohort_settings(cohort_id):
    """Change a cohort: its seats, its details, whether it takes registrations, or cancel it.

    Two calls to show (the cohort and its ETag, the facilitators' directory); one more to change one thing.
    """
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        errors = _change_cohort(cohort_id, form)
        if not errors:
            return redirect(url_for("cohorts.cohort", cohort_id=cohort_id))
    read = backend().call("GET", "scheduling", f"/cohorts/{cohort_id}", token=token())
    cohort = read.json()
    directory = _directory(cohort["tenant"])
    if request.method == "GET" or form.get("action") != "details" or not errors:
        ticked, others = facilitators_shown(cohort.get("facilitators") or [], directory)
        shown = {
            "title": cohort["title"],
            "facilitators": others,
            "completion_minimum": str(cohort["completion_minimum"]),
            "requires_approval": "yes" if cohort["requires_approval"] else "",
        }
    else:
        shown, ticked = form, _ticked(form)  # what was typed stays beside the errors
    capacity = form.get("capacity") if form.get("action") == "capacity" and errors else str(cohort["capacity"])
    return render_template(
        "cohort_settings.html",
        cohort=cohort,
        # The version the form was read at, so a second try still protects it; after a 412, today's.
        etag=read.headers.get("ETag") if errors.get("_stale") or not form.get("etag") else form["etag"],
        form=shown,
        directory=directory,
        ticked=ticked,
        capacity=capacity,
        action=form.get("action"),
        errors=errors,
    ), (422 if errors else 200)


def _change_cohort(cohort_id: str, form) -> dict:
    """Send the one change the form asks for; the errors to show beside its fields, or none."""
    action = form.get("action")
    path = f"/cohorts/{cohort_id}"
    try:
        if action == "capacity":
            seats = _integer(form, "capacity", {})
            if seats is None:
                return {"capacity": "Enter the number of seats."}
            change = backend().put("scheduling", f"{path}/capacity", token=token(), json={"capacity": seats})
            promoted = len(change.get("promoted") or [])
            flash(f"{seats} seats." + (f" {promoted} promoted from the waitlist." if promoted else ""))
        elif action == "details":
            errors: dict[str, str] = {}
            body = {
                "title": form.get("title", ""),
                "facilitators": _facilitators(form),
                "requires_approval": form.get("requires_approval") == "yes",
            }
            minimum = _integer(form, "completion_minimum", errors)
            if minimum is not None:
                body["completion_minimum"] = minimum
            if errors:
                return errors
            backend().call("PATCH", "scheduling", path, token=token(), json=body, if_match=form.get("etag") or None)
            flash("Cohort saved.")
        elif action in ("close", "reopen"):
            backend().post("scheduling", f"{path}/{action}", token=token())
            flash("Registration closed." if action == "close" else "Registration open again.")
        elif action == "cancel":
            reason = (form.get("reason") or "").strip()
            if not reason:
                return {"reason": "Say why: every registrant and facilitator is told."}
            backend().post("scheduling", f"{path}/cancel", token=token(), json={"reason": reason})
            flash("Cohort cancelled: its sessions and registrations with it; everyone is told.")
        else:
            return {"_form": "Choose what to change."}
    except BackendError as error:
        if error.status == 412:
            return {
                "_stale": "yes",
                "_form": "Someone changed this cohort since you opened it. What you typed is kept below: compare "
                "it with the cohort as it is now, then save again.",
            }
        if error.status not in (403, 409, 422):
            raise
        return {**folded_errors(error.field_errors, "facilitators"), "_form": error.message}
    return {}


@blp.route("/sessions/<session_id>/change", methods=["GET", "POST"])
@identity.signed_in
def change_session(session_id):
    """Reschedule or cancel one session; its registrants and facilitators are told (updated or cancelled invite).

    One call to show; one more to change it.
    """
    session_ = backend().get("scheduling", f"/sessions/{session_id}", token=token())
    starts, ends = datetime.fromisoformat(session_["local_start"]), datetime.fromisoformat(session_["local_end"])
    form = {
        "starts": starts.strftime("%Y-%m-%dT%H:%M"),
        "hours": f"{(ends - starts).total_seconds() / 3600:g}",
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        action = form.get("action")
        errors = _check_change_form(form, action)
        if not errors:
            try:
                if action == "reschedule":
                    new_start = datetime.fromisoformat(form["starts"]).replace(tzinfo=ZoneInfo(session_["time_zone"]))
                    body = {
                        "starts_at": new_start.isoformat(),
                        "ends_at": (new_start + timedelta(minutes=round(float(form["hours"]) * 60))).isoformat(),
                        "reason": form["reason"].strip(),
                    }
                    backend().post("scheduling", f"/sessions/{session_id}/reschedule", token=token(), json=body)
                    flash(f"Session {session_['module_position']} moved; its people get the updated invitation.")
                else:
                    body = {"reason": form["reason"].strip()}
                    backend().post("scheduling", f"/sessions/{session_id}/cancel", token=token(), json=body)
                    flash(f"Session {session_['module_position']} cancelled; its people are told.")
                return redirect(url_for("cohorts.cohort", cohort_id=session_["cohort_id"]))
            except BackendError as error:
                if error.status not in (403, 409, 422):
                    raise
                errors = {**_change_errors(error.field_errors, action), "_form": error.message}
    return render_template("session_change.html", session=session_, form=form, errors=errors), (422 if errors else 200)


def _check_change_form(form, action: str | None) -> dict:
    errors = {}
    if action not in ("reschedule", "cancel"):
        return {"_form": "Choose to reschedule or to cancel the session."}
    if action == "reschedule":
        try:
            datetime.fromisoformat(form.get("starts", ""))
        except ValueError:
            errors["starts"] = "Enter the new date and time."
        errors.update(_hours_error(form))
    if not (form.get("reason") or "").strip():
        errors[f"{action}_reason"] = "Say why: the e-mail to its people gives your reason."
    return errors


def _change_errors(api_errors: dict, action: str | None) -> dict:
    """The API's errors beside the form's fields: the reason field of the form used, the new start."""
    shown = {}
    for key, message in api_errors.items():
        if key == "reason":
            shown[f"{action}_reason"] = message
        elif key in ("starts_at", "ends_at"):
            shown["starts"] = message
        else:
            shown[key] = message
    return shown


def _hours_error(form) -> dict:
    """A session's length in hours, as the schedule and change forms take it."""
    try:
        if 0 < float(form.get("hours", "")) <= 12:
            return {}
    except ValueError:
        pass
    return {"hours": "A session lasts more than 0 and at most 12 hours."}


def _check_schedule_form(form) -> dict:
    errors = {}
    try:
        datetime.fromisoformat(form.get("first_start", ""))
    except ValueError:
        errors["first_start"] = "Enter the date and time of the first session."
    errors.update(_hours_error(form))
    try:
        if not 0 <= int(form.get("days_apart", "")) <= 60:
            raise ValueError
    except ValueError:
        errors["days_apart"] = "Enter a whole number of days from 0 to 60."
    if not form.getlist("module"):
        errors["module"] = "Choose at least one session."
    return errors


@blp.get("/cohorts/<cohort_id>/completions")
@identity.signed_in
def completions(cohort_id):
    """Who completed, with hours, certificate downloads and verification links. Two calls."""
    cohort, done = backend().get_all(
        ("scheduling", f"/cohorts/{cohort_id}", {"token": token()}),
        ("scheduling", f"/cohorts/{cohort_id}/completions", {"token": token(), "params": {"limit": PAGE}}),
    )
    return render_template("completions.html", cohort=cohort, completions=done["items"])


@blp.get("/training-hours.csv")
@identity.signed_in
def training_hours():
    """The jurisdiction's training-hours export as one CSV file: every page the API gives, one header row."""
    user_token = token()

    def fetch(query: dict):
        response = backend().call(
            "GET", "scheduling", "/training-hours", token=user_token, params=query, accept="text/csv"
        )
        # The next page's address is built on the API's public URL; only its query is taken.
        following = response.links.get("next", {}).get("url")
        return response.text, dict(parse_qsl(urlsplit(following).query)) if following else None

    first, following = fetch({"format": "csv", "limit": PAGE})

    def pages():
        yield first
        query = following
        while query:
            text, query = fetch(query)
            yield text.split("\n", 1)[1] if "\n" in text else ""

    return Response(
        stream_with_context(pages()),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="training-hours.csv"', "Cache-Control": "no-store"},
    )
