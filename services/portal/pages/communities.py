"""A learning community member's pages: their communities, calls, threads, documents, work plan, members, syntheses.

Who sees a community is content's rule (docs/communities.md): a person who is not in it gets the API's
404, which the portal shows as "Not found", as for a community that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from services.portal import identity
from services.portal.backend import BackendError
from services.portal.pages import backend, token
from services.portal.pages.certificates import file_from

blp = Blueprint("communities", __name__)
PAGE = 100
FOCUS_AREAS = (
    ("specialist_networks", "Infant/Toddler Specialist Networks"),
    ("credentials", "Infant/Toddler Credentials"),
    ("quality_rating_systems", "Quality Rating Systems"),
    ("other", "Another focus area"),
)
WORK_STATUSES = (("open", "Open"), ("in_progress", "In progress"), ("done", "Done"), ("dropped", "Dropped"))
CALL_KINDS = (
    ("interactive_call", "Interactive call"),
    ("expert_session", "Live session with an expert"),
    ("face_to_face", "Face-to-face meeting"),
)
REPEATS = (
    ("once", "Once"),
    ("weekly", "Every week"),
    ("fortnightly", "Every two weeks"),
    ("monthly", "Every month, on the same weekday (the 2nd Tuesday, say)"),
)
MEMBER_KINDS = (
    ("team_member", "A jurisdiction's team member"),
    ("staff", "Initiative staff"),
    ("guest_expert", "Guest expert"),
)
LANGUAGES = (("en", "English"), ("es", "Spanish"))
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# The zones a national audio-conference is announced in: the country's, from east to west.
ANNOUNCED_ZONES = (
    ("America/New_York", "Eastern"),
    ("America/Chicago", "Central"),
    ("America/Denver", "Mountain"),
    ("America/Los_Angeles", "Pacific"),
    ("America/Anchorage", "Alaska"),
    ("Pacific/Honolulu", "Hawaii"),
    ("America/Puerto_Rico", "Atlantic"),
    ("Pacific/Guam", "Chamorro"),
)
# Scheduling takes attendance from 30 minutes before a call starts; the form opens then too.
ATTENDANCE_OPENS_BEFORE = timedelta(minutes=30)


def _base(community_id: str) -> str:
    return f"/communities/{community_id}"


def _refused(error: BackendError, fields: dict[str, str] | None = None) -> dict:
    """The API's field errors of a 422, with its detail for the summary; any other refusal is the error page's.

    ``fields`` renames the API's fields to the form's where they differ (``place.venue`` is the form's ``venue``).
    """
    if error.status != 422:
        raise error
    errors = {(fields or {}).get(name, name): message for name, message in error.field_errors.items()}
    errors.setdefault("_form", error.message)
    return errors


def _shown(template: str, errors: dict, **values):
    """A community page with its form as it was sent, so a refused entry is kept, and the errors beside its fields."""
    return render_template(template, form=request.form, errors=errors, **values)


def _runs_calls(space: dict) -> bool:
    """Who the portal offers to schedule and run calls: national staff and the community's facilitators.

    The API decides (its Initiative staff members run calls too); this only spares others a form they cannot use.
    """
    return g.user.has("national_admin") or g.user.sub in space.get("facilitators", [])


def _calls_read(community_id: str) -> tuple[str, str, dict]:
    """The read of the community's calls and meetings in time order, for ``get_all`` beside the page's others.

    Scheduling learns of a community from content's events a moment after content has it: until then it
    does not know the community (404), and the space simply has no calls yet.
    """
    return (
        "scheduling",
        f"{_base(community_id)}/calls",
        {"token": token(), "params": {"limit": PAGE}, "absent": {"items": []}},
    )


@blp.get("/communities")
@identity.signed_in
def list_communities():
    """The communities the person sees (staff: every one): one call."""
    communities = backend().get("content", "/communities", token=token(), params={"limit": PAGE})["items"]
    return render_template("communities.html", communities=communities, focus_areas=dict(FOCUS_AREAS))


@blp.route("/communities/new", methods=["GET", "POST"])
@identity.signed_in
def convene():
    """Convene a community (national staff): no call to show, one to save; the person is its first facilitator."""
    form, errors = request.form, {}
    if request.method == "POST":
        body = {
            "title": form.get("title", ""),
            "focus_area": form.get("focus_area", ""),
            "description": form.get("description", ""),
            "goals": [line.strip() for line in form.get("goals", "").splitlines() if line.strip()],
            "starts_on": form.get("starts_on", ""),
            "facilitators": [{"sub": g.user.sub, "name": g.user.name}],
        }
        # An empty choice is caught here in words a person uses (the API would list its codes); what the
        # API refuses otherwise comes back next to its field.
        if not body["focus_area"]:
            errors["focus_area"] = "Choose the focus area."
        if not body["starts_on"]:
            errors["starts_on"] = "Enter a day of the week the community begins."
        if not errors:
            try:
                created = backend().post("content", "/communities", token=token(), json=body, idempotent_create=True)
                return redirect(url_for("communities.community", community_id=created["id"]))
            except BackendError as error:
                errors = _refused(error)
    return _shown("community_new.html", errors, focus_areas=FOCUS_AREAS)


@blp.route("/communities/<community_id>", methods=["GET", "POST"])
@identity.signed_in
def community(community_id: str):
    """The community's space: its upcoming calls, its threads (and a form to start one): three calls."""
    form, errors = request.form, {}
    if request.method == "POST":
        body = {"title": form.get("title", ""), "body": form.get("body", "")}
        try:
            thread = backend().post("content", f"{_base(community_id)}/threads", token=token(), json=body)
            return redirect(url_for("communities.thread", community_id=community_id, thread_id=thread["id"]))
        except BackendError as error:
            errors = _refused(error)
    space, threads, calls = backend().get_all(
        ("content", _base(community_id), {"token": token()}),
        ("content", f"{_base(community_id)}/threads", {"token": token(), "params": {"limit": PAGE}}),
        _calls_read(community_id),
    )
    now = datetime.now(UTC)
    upcoming = [c for c in calls["items"] if datetime.fromisoformat(c["ends_at"]) >= now][:6]
    return _shown(
        "community.html",
        errors,
        community=space,
        threads=sorted(threads["items"], key=lambda t: t.get("last_reply_at") or t["created_at"], reverse=True),
        calls=upcoming,
        work_plan=space.get("work_plan"),
        focus_areas=dict(FOCUS_AREAS),
    )


@blp.route("/communities/<community_id>/threads/<thread_id>", methods=["GET", "POST"])
@identity.signed_in
def thread(community_id: str, thread_id: str):
    """A thread with its replies, oldest first, and the reply form: two calls (one more to reply)."""
    path = f"{_base(community_id)}/threads/{thread_id}"
    form, errors = request.form, {}
    if request.method == "POST":
        try:
            backend().post("content", f"{path}/replies", token=token(), json={"body": form.get("body", "")})
            return redirect(url_for("communities.thread", community_id=community_id, thread_id=thread_id) + "#replies")
        except BackendError as error:
            errors = _refused(error)
    shown, replies = backend().get_all(
        ("content", path, {"token": token()}),
        ("content", f"{path}/replies", {"token": token(), "params": {"limit": PAGE}}),
    )
    try:
        following = backend().get("content", f"{path}/follow", token=token())["following"]
    except BackendError as error:
        # Only members follow threads: a jurisdiction admin who reads the space is told so (403).
        if error.status != 403:
            raise
        following = None
    return _shown(
        "thread.html",
        errors,
        community_id=community_id,
        thread=shown,
        replies=replies["items"],
        following=following,
    )


@blp.post("/communities/<community_id>/threads/<thread_id>/follow")
@identity.signed_in
def follow(community_id: str, thread_id: str):
    """Follow a thread (hear of its replies) or stop following it: one call."""
    path = f"{_base(community_id)}/threads/{thread_id}/follow"
    backend().call("PUT" if request.form.get("follow") == "yes" else "DELETE", "content", path, token=token())
    return redirect(url_for("communities.thread", community_id=community_id, thread_id=thread_id))


@blp.route("/communities/<community_id>/documents", methods=["GET", "POST"])
@identity.signed_in
def documents(community_id: str):
    """The community's documents; post a file the community wrote or name a resource material: two calls."""
    form, errors = request.form, {}
    if request.method == "POST":
        path = f"{_base(community_id)}/documents"
        upload = request.files.get("file")
        try:
            if form.get("source") == "material":
                body = {
                    "title": form.get("title", ""),
                    "description": form.get("description", ""),
                    "material_id": form.get("material_id", ""),
                }
                version = form.get("material_version", "").strip()
                if version:
                    body["material_version"] = int(version) if version.isdigit() else version
                backend().post("content", path, token=token(), json=body)
            else:
                files = {"title": (None, form.get("title", "")), "description": (None, form.get("description", ""))}
                if upload and upload.filename:
                    files["file"] = (upload.filename, upload.stream, upload.mimetype)
                backend().post("content", path, token=token(), files=files)
            return redirect(url_for("communities.documents", community_id=community_id, posted=1))
        except BackendError as error:
            errors = _refused(error)
    space, listed, materials = backend().get_all(
        ("content", _base(community_id), {"token": token()}),
        ("content", f"{_base(community_id)}/documents", {"token": token(), "params": {"limit": PAGE}}),
        ("content", "/materials", {"token": token(), "params": {"limit": PAGE}}),
    )
    national = [m for m in materials["items"] if not m.get("tenant") or m.get("tenant") == "US"]
    return _shown(
        "documents.html",
        errors,
        community=space,
        documents=listed["items"],
        materials=national,
    )


@blp.route("/communities/<community_id>/work-plan", methods=["GET", "POST"])
@identity.signed_in
def work_plan(community_id: str):
    """The work plan (goals and their tasks, owner, due date, status); add an item: two calls (one more to add)."""
    form, errors = request.form, {}
    if request.method == "POST":
        body = {
            "kind": form.get("kind", ""),
            "title": form.get("title", ""),
            "goal_id": form.get("goal_id") or None,
            "owner": form.get("owner") or None,
            "due_on": form.get("due_on") or None,
        }
        try:
            backend().post("content", f"{_base(community_id)}/work-items", token=token(), json=body)
            return redirect(url_for("communities.work_plan", community_id=community_id))
        except BackendError as error:
            errors = _refused(error)
    space, items, members = backend().get_all(
        ("content", _base(community_id), {"token": token()}),
        ("content", f"{_base(community_id)}/work-items", {"token": token(), "params": {"limit": PAGE}}),
        ("content", f"{_base(community_id)}/members", {"token": token(), "params": {"limit": PAGE}}),
    )
    goals = [i for i in items["items"] if i["kind"] == "goal"]
    tasks = [i for i in items["items"] if i["kind"] == "task"]
    current = [m for m in members["items"] if m["status"] != "left"]
    return _shown(
        "work_plan.html",
        errors,
        community=space,
        goals=goals,
        tasks=tasks,
        members=current,
        names={m["sub"]: m.get("name") or m["sub"] for m in members["items"]},
        statuses=WORK_STATUSES,
    )


@blp.post("/communities/<community_id>/work-plan/<item_id>/status")
@identity.signed_in
def work_item_status(community_id: str, item_id: str):
    """Change a goal's or task's status: the item is read for its ETag, then changed with it (two calls)."""
    path = f"{_base(community_id)}/work-items/{item_id}"
    read = backend().call("GET", "content", path, token=token())
    backend().call(
        "PATCH",
        "content",
        path,
        token=token(),
        json={"status": request.form.get("status", "")},
        if_match=read.headers.get("ETag"),
    )
    return redirect(url_for("communities.work_plan", community_id=community_id) + f"#item-{item_id}")


@blp.route("/communities/<community_id>/members", methods=["GET", "POST"])
@identity.signed_in
def members(community_id: str):
    """Members and past members, each member jurisdiction's consent to attribution; staff add a member: three
    calls (one more to add)."""
    form, errors = request.form, {}
    if request.method == "POST":
        body = {
            "kind": form.get("kind", ""),
            "sub": form.get("sub", "").strip(),
            "name": form.get("name", "").strip() or None,
            "jurisdiction": form.get("jurisdiction", "").strip().upper() or None,
            "email": form.get("email", "").strip() or None,
            "language": form.get("language") or None,
        }
        if not body["kind"]:
            errors["kind"] = "Choose how the person takes part."
        else:
            try:
                backend().post("content", f"{_base(community_id)}/members", token=token(), json=body)
                return redirect(url_for("communities.members", community_id=community_id, added=body["sub"]))
            except BackendError as error:
                errors = _refused(error)
    space, listed, consents = backend().get_all(
        ("content", _base(community_id), {"token": token()}),
        ("content", f"{_base(community_id)}/members", {"token": token(), "params": {"limit": PAGE}}),
        ("content", f"{_base(community_id)}/consents", {"token": token(), "params": {"limit": PAGE}}),
    )
    recorded = {c["jurisdiction"]: c for c in consents["items"]}
    jurisdictions = sorted(
        {m["jurisdiction"] for m in listed["items"] if m.get("jurisdiction") and m["status"] != "left"}
    )
    return _shown(
        "members.html",
        errors,
        community=space,
        members=listed["items"],
        jurisdictions=jurisdictions,
        consents=recorded,
        kinds=MEMBER_KINDS,
        languages=LANGUAGES,
        added=request.args.get("added"),
    )


def _call_series(form) -> tuple[dict, dict]:
    """The API's body for a call or a series from the scheduling form, and what the form itself lacks.

    A person picks how often, and how many: the recurrence rule is written from the first call's weekday
    (and, monthly, its place in the month), so the first call is always one of the rule's occurrences.
    """
    errors: dict[str, str] = {}
    kind, local_start = form.get("kind", ""), form.get("local_start", "")
    body = {
        "kind": kind,
        "title": form.get("title", ""),
        "agenda": form.get("agenda", ""),
        "local_start": f"{local_start}:00" if len(local_start) == 16 else local_start,
    }
    if not kind:
        errors["kind"] = "Choose the kind of call or meeting."
    if not local_start:
        errors["local_start"] = "Enter the day and time of the first call."
    minutes = form.get("duration_minutes", "").strip()
    if minutes:
        body["duration_minutes"] = int(minutes) if minutes.isdigit() else minutes
    if kind == "face_to_face":
        body["place"] = {
            "venue": form.get("venue", ""),
            "address": form.get("address", ""),
            "room": form.get("room") or None,
        }
    else:
        body["meeting_url"] = form.get("meeting_url", "").strip() or None
    repeat, count = form.get("repeat", "once"), form.get("count", "").strip()
    if repeat != "once":
        if not count.isdigit() or int(count) < 2:
            errors["count"] = "Enter how many calls in all, 2 or more."
        elif not errors:
            first = datetime.fromisoformat(body["local_start"]).date()
            weekday = WEEKDAYS[first.weekday()]
            nth = (first.day - 1) // 7 + 1
            rules = {
                "weekly": f"FREQ=WEEKLY;BYDAY={weekday}",
                "fortnightly": f"FREQ=WEEKLY;INTERVAL=2;BYDAY={weekday}",
                # A 5th weekday is the month's last: "-1" (last) keeps the series in every month.
                "monthly": f"FREQ=MONTHLY;BYDAY={-1 if nth == 5 else nth}{weekday}",
            }
            if repeat not in rules:
                errors["repeat"] = "Choose how often."
            else:
                body["rrule"] = f"{rules[repeat]};COUNT={count}"
    return body, errors


# The API's names for what the scheduling form asks under others.
CALL_FIELDS = {"rrule": "repeat", "place": "venue", "place.venue": "venue", "place.address": "address"}


@blp.route("/communities/<community_id>/calls", methods=["GET", "POST"])
@identity.signed_in
def calls(community_id: str):
    """Every call and meeting of the community, upcoming and past; staff schedule one or a series: two calls (one
    more to schedule)."""
    errors = {}
    if request.method == "POST":
        body, errors = _call_series(request.form)
        if not errors:
            try:
                made = backend().post(
                    "scheduling", f"{_base(community_id)}/calls", token=token(), json=body, idempotent_create=True
                )
                return redirect(url_for("communities.calls", community_id=community_id, scheduled=len(made["calls"])))
            except BackendError as error:
                errors = _refused(error, CALL_FIELDS)
    space, calls = backend().get_all(("content", _base(community_id), {"token": token()}), _calls_read(community_id))
    listed = calls["items"]
    now = datetime.now(UTC)
    return _shown(
        "calls.html",
        errors,
        community=space,
        upcoming=[c for c in listed if datetime.fromisoformat(c["ends_at"]) >= now],
        past=[c for c in reversed(listed) if datetime.fromisoformat(c["ends_at"]) < now],
        runs_calls=_runs_calls(space),
        kinds=CALL_KINDS,
        repeats=REPEATS,
        scheduled=request.args.get("scheduled", type=int),
    )


@blp.route("/communities/<community_id>/calls/<call_id>", methods=["GET", "POST"])
@identity.signed_in
def call(community_id: str, call_id: str):
    """One call: its agenda and minutes, and who attended; staff write them: three calls (one more to save)."""
    form, errors, path = request.form, {}, f"/community-calls/{call_id}"
    if request.method == "POST":
        if form.get("action") == "attendance":
            errors = _take_attendance(path, form)
        else:
            errors = _write_notes(path, form)
        if not errors:
            saved = form.get("action", "notes")
            return redirect(
                url_for("communities.call", community_id=community_id, call_id=call_id, saved=saved) + f"#{saved}"
            )
    read = backend().call("GET", "scheduling", path, token=token())
    shown = read.json()
    if shown.get("community_id") != community_id:  # another community's call, reached through this one's address
        abort(404)
    attendance, members = backend().get_all(
        ("scheduling", f"{path}/attendance", {"token": token()}),
        (
            "content",
            f"{_base(community_id)}/members",
            {"token": token(), "params": {"limit": PAGE, "status": "active"}},
        ),
    )
    # Facilitators are the community's staff members: with national staff, they run its calls.
    staff = [m["sub"] for m in members["items"] if m["kind"] == "staff"]
    return _shown(
        "call.html",
        errors,
        community={"id": community_id},
        call=shown,
        etag=read.headers.get("ETag", ""),
        marks={m["person"]: m["status"] for m in attendance["marks"]},
        members=members["items"],
        runs_calls=g.user.has("national_admin") or g.user.sub in staff,
        acted=form.get("action", "notes") if errors else None,
        saved=request.args.get("saved"),
        attendance_open=datetime.fromisoformat(shown["starts_at"]) - datetime.now(UTC) <= ATTENDANCE_OPENS_BEFORE,
    )


def _take_attendance(path: str, form) -> dict:
    """Send the marks given (present or absent; a member left unmarked is not sent); the API's errors if refused."""
    marks = [
        {"person": name.removeprefix("mark-"), "status": value}
        for name, value in form.items()
        if name.startswith("mark-") and value in ("present", "absent")
    ]
    if not marks:
        return {"marks": "Mark at least one member present or absent."}
    try:
        backend().put("scheduling", f"{path}/attendance", token=token(), json={"marks": marks})
    except BackendError as error:
        # The API names a refused mark by its place in the list; the form by the member it marks.
        return _refused(error, {f"marks.{i}": f"mark-{m['person']}" for i, m in enumerate(marks)})
    return {}


def _write_notes(path: str, form) -> dict:
    """Save the agenda and minutes over the call as it was read (its ETag); the API's errors if refused."""
    body = {"agenda": form.get("agenda", ""), "minutes": form.get("minutes", "")}
    try:
        backend().call("PATCH", "scheduling", path, token=token(), json=body, if_match=form.get("etag") or None)
    except BackendError as error:
        if error.status == 412:
            return {
                "_form": "Someone saved this call since you opened it. Your text is kept below: compare it with "
                "the call as it is now, then save again."
            }
        return _refused(error)
    return {}


@blp.post("/communities/<community_id>/calendar-feed")
@identity.signed_in
def calendar_feed(community_id: str):
    """Create the person's private feed of the community's calls; its address is shown this once: one call."""
    feed = backend().post("scheduling", f"{_base(community_id)}/calendar-feeds", token=token())
    return render_template(
        "calendar_feed.html",
        feed=feed,
        about="this community's calls and meetings",
        back=url_for("communities.community", community_id=community_id),
    )


@blp.route("/communities/<community_id>/synthesis", methods=["GET", "POST"])
@identity.signed_in
def synthesis_work(community_id: str):
    """Staff draft a synthesis of the marked knowledge products and publish it; each draft shows its contributions
    as each jurisdiction's consent allows: three calls (one more to draft or publish)."""
    form, errors = request.form, {}
    path = f"{_base(community_id)}/syntheses"
    if request.method == "POST":
        try:
            if form.get("action") == "publish":
                done = backend().post("content", f"{path}/{form.get('synthesis_id', '')}/publish", token=token())
                return redirect(url_for("communities.synthesis", synthesis_id=done["id"]))
            body = {
                "title": form.get("title", ""),
                "summary": form.get("summary", ""),
                "knowledge_products": form.getlist("product"),
            }
            backend().post("content", path, token=token(), json=body)
            return redirect(url_for("communities.synthesis_work", community_id=community_id, drafted=1) + "#drafts")
        except BackendError as error:
            errors = _refused(error, {"knowledge_products": "product"})
    space, products, drafts = backend().get_all(
        ("content", _base(community_id), {"token": token()}),
        ("content", f"{_base(community_id)}/knowledge-products", {"token": token(), "params": {"limit": PAGE}}),
        ("content", path, {"token": token(), "params": {"limit": PAGE}}),
    )
    return _shown(
        "synthesis_work.html",
        errors,
        community=space,
        products=products["items"],
        drafts=[d for d in drafts["items"] if d["status"] != "published"],
        published=[d for d in drafts["items"] if d["status"] == "published"],
        drafted=request.args.get("drafted"),
    )


@blp.post("/communities/<community_id>/knowledge-products")
@identity.signed_in
def mark_knowledge_product(community_id: str):
    """Staff mark a thread, a reply or a document as a knowledge product of the community: one call."""
    body = {"source_kind": request.form.get("source_kind", ""), "source_id": request.form.get("source_id", "")}
    backend().post("content", f"{_base(community_id)}/knowledge-products", token=token(), json=body)
    return redirect(url_for("communities.synthesis_work", community_id=community_id, marked=1))


@blp.route("/audio-conferences", methods=["GET", "POST"])
@identity.signed_in
def audio_conferences():
    """National audio-conferences, for anyone to register; national staff announce one: one call (one more to
    announce)."""
    form, errors = request.form, {}
    if request.method == "POST":
        body, errors = _announcement(form)
        if not errors:
            try:
                made = backend().post(
                    "scheduling", "/audio-conferences", token=token(), json=body, idempotent_create=True
                )
                return redirect(url_for("communities.audio_conference", call_id=made["id"], announced=1))
            except BackendError as error:
                errors = _refused(error, {"starts_at": "local_start"})
    listed = backend().get("scheduling", "/audio-conferences", token=token(), params={"limit": PAGE})["items"]
    now = datetime.now(UTC)
    return _shown(
        "audio_conferences.html",
        errors,
        upcoming=[c for c in listed if datetime.fromisoformat(c["ends_at"]) >= now],
        zones=ANNOUNCED_ZONES,
    )


def _announcement(form) -> tuple[dict, dict]:
    """The API's body for an audio-conference: the wall time typed, in the zone chosen, as an instant."""
    errors: dict[str, str] = {}
    zone, local_start = form.get("time_zone", ""), form.get("local_start", "")
    body = {
        "title": form.get("title", ""),
        "agenda": form.get("agenda", ""),
        "time_zone": zone,
        "meeting_url": form.get("meeting_url", "").strip(),
    }
    minutes = form.get("duration_minutes", "").strip()
    if minutes:
        body["duration_minutes"] = int(minutes) if minutes.isdigit() else minutes
    if zone not in dict(ANNOUNCED_ZONES):
        errors["time_zone"] = "Choose the time zone it is announced in."
    try:
        moment = datetime.fromisoformat(local_start)
    except ValueError:
        errors["local_start"] = "Enter the day and time it starts."
    else:
        if not errors:
            body["starts_at"] = moment.replace(tzinfo=ZoneInfo(zone)).isoformat()
    return body, errors


@blp.route("/audio-conferences/<call_id>", methods=["GET", "POST"])
@identity.signed_in
def audio_conference(call_id: str):
    """One audio-conference and the person's registration (national staff: every registration); register: two
    calls (one more to register)."""
    form, errors = request.form, {}
    path = f"/audio-conferences/{call_id}/registrations"
    if request.method == "POST":
        body = {"name": form.get("name", "").strip(), "email": form.get("email", "").strip() or None}
        try:
            backend().post("scheduling", path, token=token(), json=body)
            return redirect(url_for("communities.audio_conference", call_id=call_id, registered=1))
        except BackendError as error:
            errors = _refused(error)
    shown, registrations = backend().get_all(
        ("scheduling", f"/community-calls/{call_id}", {"token": token()}),
        ("scheduling", path, {"token": token(), "params": {"limit": PAGE}}),
    )
    if shown.get("kind") != "audio_conference":  # a community's call is not read through this page
        abort(404)
    mine = next((r for r in registrations["items"] if r["person"] == g.user.sub), None)
    return _shown(
        "audio_conference.html",
        errors,
        call=shown,
        mine=mine,
        registrations=registrations["items"] if g.user.has("national_admin") else [],
    )


@blp.get("/syntheses")
@identity.signed_in
def syntheses():
    """Published syntheses, readable by every signed-in person of any jurisdiction: one call."""
    params = {"limit": PAGE}
    if request.args.get("community"):
        params["community_id"] = request.args["community"]
    listed = backend().get("content", "/syntheses", token=token(), params=params)["items"]
    return render_template("syntheses.html", syntheses=listed)


@blp.get("/syntheses/<synthesis_id>")
@identity.signed_in
def synthesis(synthesis_id: str):
    """One published synthesis with its contributions as each jurisdiction's consent allows: one call."""
    shown = backend().get("content", f"/syntheses/{synthesis_id}", token=token())
    return render_template("synthesis.html", synthesis=shown)


@blp.get("/communities/<community_id>/documents/<document_id>/download")
@identity.signed_in
def document_file(community_id: str, document_id: str):
    """A file the community posted, from content with the person's token: one call.

    Saved rather than opened: its bytes are a member's upload, so the browser never renders them as a page of
    the portal.
    """
    return file_from("content", f"{_base(community_id)}/documents/{document_id}/download", attachment=True)
