"""Signing in and out: the identity provider in production, the development sign-in on the embedded default."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from services.portal import identity
from services.portal.backend import BackendError, Unavailable

log = logging.getLogger(__name__)

blp = Blueprint("identity", __name__)


@blp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Development: pick a demo person and role. Production: go to the identity provider."""
    next_path = identity.safe_next(request.values.get("next"))
    provider = current_app.extensions["oidc"]
    if provider is not None:
        return redirect(provider.authorization_url(next_path))
    errors, form = {}, request.form
    if request.method == "POST":
        errors = identity.development_sign_in(form)
        if not errors:
            enter_by_name()
            return redirect(next_path)
    return render_template(
        "sign_in.html",
        demo_users=identity.DEMO_USERS,
        roles=identity.ROLES,
        errors=errors,
        form=form,
        next_path=next_path,
    ), (422 if errors else 200)


@blp.get("/auth/callback")
def callback():
    """Where the identity provider sends the person back with the authorization code."""
    provider = current_app.extensions["oidc"]
    if provider is None:
        return redirect(url_for("identity.sign_in"))
    try:
        next_path = identity.safe_next(provider.finish(request.args))
    except PermissionError as refusal:
        return render_template("error.html", title="Sign-in failed", message=str(refusal), sign_in=True), 400
    enter_by_name()
    return redirect(next_path)


# Where a person who signs in is entered by name, per role: facilitators in scheduling's directory (forms
# offer them, certificates name them), specialists in coaching (trainers read who their specialist is).
ENTRIES = (("facilitator", "scheduling", "/me/facilitator-entry"), ("specialist", "coaching", "/me/specialist-entry"))


def enter_by_name() -> None:
    """Enter (or rename) the person who signed in where their role is named, with their sign-in's name.

    Never in the way of signing in: if a service does not take it now, the next sign-in enters them.
    """
    user, services = identity.current_user(), current_app.extensions["backend"]
    for role, service, path in ENTRIES:
        if user is None or not user.has(role) or not services.has(service):
            continue
        try:
            services.put(service, path, token=user.token)
        except (BackendError, Unavailable) as error:
            log.warning("%s %s not entered by name in %s: %s", role, user.sub, service, error)


@blp.post("/sign-out")
def sign_out():
    identity.sign_out()
    return redirect(url_for("identity.sign_in"))
