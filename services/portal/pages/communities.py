"""A learning community member's pages: their communities, calls, threads, documents, work plan, members, syntheses.

Who sees a community is content's rule (docs/communities.md): a person who is not in it gets the API's
404, which the portal shows as "Not found", as for a community that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, g, redirect, render_template, request, url_for

from services.portal import identity
from services.portal.backend import BackendError
from services.portal.pages import backend, token
from services.portal.pages.certificates import passed_through

blp = Blueprint("communities", __name__)
PAGE = 100
FOCUS_AREAS = (
    ("specialist_networks", "Infant/Toddler Specialist Networks"),
    ("credentials", "Infant/Toddler Credentials"),
    ("quality_rating_systems", "Quality Rating Systems"),
    ("other", "Another focus area"),
)
WORK_STATUSES = (("open", "Open"), ("in_progress", "In progress"), ("done", "Done"), ("dropped", "Dropped"))


def _base(community_id: str) -> str:
    return f"/communities/{community_id}"


def _refused(error: BackendError) -> dict:
    """The API's field errors of a 422, with its detail for the summary; any other refusal is the error page's."""
    if error.status != 422:
        raise error
    errors = dict(error.field_errors)
    errors.setdefault("_form", error.message)
    return errors


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
    return render_template("community_new.html", form=form, errors=errors, focus_areas=FOCUS_AREAS)


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
    space, threads = backend().get_all(
        ("content", _base(community_id), {"token": token()}),
        ("content", f"{_base(community_id)}/threads", {"token": token(), "params": {"limit": PAGE}}),
    )
    try:
        calls = backend().get("scheduling", f"{_base(community_id)}/calls", token=token(), params={"limit": PAGE})
    except BackendError as error:
        # Scheduling learns of a community from content's events a moment after content has it: until
        # then it does not know the community, and the space simply has no calls yet.
        if error.status != 404:
            raise
        calls = {"items": []}
    now = datetime.now(UTC)
    upcoming = [c for c in calls["items"] if datetime.fromisoformat(c["ends_at"]) >= now][:6]
    return render_template(
        "community.html",
        community=space,
        threads=sorted(threads["items"], key=lambda t: t.get("last_reply_at") or t["created_at"], reverse=True),
        calls=upcoming,
        focus_areas=dict(FOCUS_AREAS),
        form=form,
        errors=errors,
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
    return render_template(
        "thread.html",
        community_id=community_id,
        thread=shown,
        replies=replies["items"],
        following=following,
        form=form,
        errors=errors,
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
    return render_template(
        "documents.html",
        community=space,
        documents=listed["items"],
        materials=national,
        form=form,
        errors=errors,
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
    return render_template(
        "work_plan.html",
        community=space,
        goals=goals,
        tasks=tasks,
        members=current,
        names={m["sub"]: m.get("name") or m["sub"] for m in members["items"]},
        statuses=WORK_STATUSES,
        form=form,
        errors=errors,
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


@blp.get("/communities/<community_id>/members")
@identity.signed_in
def members(community_id: str):
    """Members and past members, and each member jurisdiction's consent to attribution: three calls."""
    space, listed, consents = backend().get_all(
        ("content", _base(community_id), {"token": token()}),
        ("content", f"{_base(community_id)}/members", {"token": token(), "params": {"limit": PAGE}}),
        ("content", f"{_base(community_id)}/consents", {"token": token(), "params": {"limit": PAGE}}),
    )
    recorded = {c["jurisdiction"]: c for c in consents["items"]}
    jurisdictions = sorted(
        {m["jurisdiction"] for m in listed["items"] if m.get("jurisdiction") and m["status"] != "left"}
    )
    return render_template(
        "members.html",
        community=space,
        members=listed["items"],
        jurisdictions=jurisdictions,
        consents=recorded,
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
    response = backend().call(
        "GET",
        "content",
        f"{_base(community_id)}/documents/{document_id}/download",
        token=token(),
        accept="*/*",
        stream=True,
    )
    return passed_through(response, None, attachment=True)
