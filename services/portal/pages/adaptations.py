"""A facilitator's adaptations of the curriculum: start one, decide each core component, submit it for a
specialist's fidelity review, read the review, revise and submit again (the specialist's side is the
coach pages' "Adaptations to review")."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from services.portal import adaptations as rules
from services.portal import identity
from services.portal.backend import BackendError
from services.portal.pages import backend, token

blp = Blueprint("adaptations", __name__)
PAGE = 200


@blp.route("/my/adaptations", methods=["GET", "POST"])
@identity.signed_in
def my_adaptations():
    """A facilitator's adaptations, the latest change first, and the form to start one: two calls (one more to
    start one)."""
    if not g.user.has("facilitator"):
        return render_template("my_adaptations.html", adaptations=None, modules=[], form={}, errors={})
    form, errors = request.form, {}
    if request.method == "POST":
        body, errors = rules.start_body(form)
        if not errors:
            try:
                started = backend().post("content", "/adaptations", token=token(), json=body, idempotent_create=True)
                flash("Draft saved. Decide each core component, then submit it for review.")
                return redirect(url_for("adaptations.my_adaptation", adaptation_id=started["id"]))
            except BackendError as error:
                if error.status not in (404, 422):
                    raise
                errors = {**rules.api_errors(error.field_errors, []), "_form": error.message}
    listed, series = backend().get_all(
        ("content", "/adaptations", {"token": token(), "params": {"limit": PAGE}}),
        ("content", "/series", {"token": token(), "params": {"limit": PAGE}}),
    )
    return render_template(
        "my_adaptations.html",
        adaptations=rules.mine_newest_first(listed["items"], g.user.sub),
        modules=rules.module_choices(series["items"]),
        labels=rules.STATUS_LABELS,
        form=form,
        errors=errors,
    ), (422 if errors else 200)


@blp.route("/my/adaptations/<adaptation_id>", methods=["GET", "POST"])
@identity.signed_in
def my_adaptation(adaptation_id: str):
    """One adaptation: its decisions per core component, the reviews it had, and, while it is the facilitator's
    to change, the form to save it or submit it. Two calls to show; one or two more to save or submit."""
    form, errors = request.form, {}
    if request.method == "POST":
        errors = _save(adaptation_id, form)
        if not errors:
            return redirect(url_for("adaptations.my_adaptation", adaptation_id=adaptation_id))
    read = backend().call("GET", "content", f"/adaptations/{adaptation_id}", token=token())
    adaptation = read.json()
    module = backend().get("content", f"/modules/{adaptation['module_id']}", token=token())
    typed = form if errors and not errors.get("_stale") else None
    return render_template(
        "my_adaptation.html",
        adaptation=adaptation,
        module=module,
        rows=rules.component_rows(module.get("core_components") or [], adaptation.get("components") or [], typed),
        editable=adaptation["status"] in rules.EDITABLE and adaptation["facilitator"] == g.user.sub,
        reviews=sorted(adaptation.get("reviews") or [], key=lambda r: r.get("created_at") or "", reverse=True),
        labels=rules.STATUS_LABELS,
        decisions=rules.DECISIONS,
        # The version the form was read at, so a second try still protects it; once saved or after a 412, today's.
        etag=form["etag"]
        if form.get("etag") and not (errors.get("_stale") or errors.get("_saved"))
        else read.headers.get("ETag"),
        form=typed or {"title": adaptation["title"], "audience": adaptation.get("audience") or ""},
        errors=errors,
    ), (422 if errors else 200)


def _save(adaptation_id: str, form) -> dict:
    """Save the form (PATCH, with the ETag it was read at) and, when asked, submit it; the errors to show, or none."""
    path = f"/adaptations/{adaptation_id}"
    components, rows, errors = rules.components_body(form)
    title = " ".join(form.get("title", "").split())
    if not title:
        errors["title"] = "Give the adaptation a title."
    if errors:
        return {**errors, "_form": "Nothing was saved: see the fields marked below."}
    body = {"title": title, "audience": form.get("audience", "").strip(), "components": components}
    submitting = form.get("action") == "submit"
    try:
        backend().call("PATCH", "content", path, token=token(), json=body, if_match=form.get("etag") or None)
        if submitting:
            missing = rules.undecided(form)
            if missing:
                return {
                    **missing,
                    "_saved": "yes",
                    "_heading": "Saved, not submitted yet",
                    "_form": "Saved as a draft, not submitted: a review needs a decision on every core component.",
                }
            backend().post("content", f"{path}/submit", token=token())
    except BackendError as error:
        if error.status == 412:
            return {
                "_stale": "yes",
                "_form": "This adaptation changed since you opened it (in another window?). It is shown as it is now: "
                "make your changes again.",
            }
        if error.status not in (409, 422):
            raise
        return {**rules.api_errors(error.field_errors, rows), "_form": error.message}
    flash(
        "Submitted: a specialist of your jurisdiction reviews it, and you hear of it by e-mail."
        if submitting
        else "Saved."
    )
    return {}
