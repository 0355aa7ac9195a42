"""How a person hears from the platform: where we write to them, and what we send, kind by kind.

The page reads three things at once (the kinds, the person's contact point, their choices) and exists
only while ``PORTAL_NOTIFICATIONS_URL`` names the notifications service.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from services.portal import identity
from services.portal.backend import BackendError
from services.portal.pages import backend, token
from services.portal.zones import ZONE_OPTIONS

blp = Blueprint("notifications", __name__)
LANGUAGES = (("en", "English"), ("es", "Español"))
# What a person may choose for one kind of notification, on the one channel there is (e-mail).
CHOICES = {
    "email": "By e-mail, at once",
    "hourly": "In an hourly digest",
    "daily": "In a daily digest",
    "off": "Not at all",
}
DEFAULT = "default"  # no choice of the person's own yet: the jurisdiction's default applies
PAGE = 200


def with_notifications(view):
    """The page exists only when the portal knows where the notifications service is."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not backend().has("notifications"):
            abort(404)
        return view(*args, **kwargs)

    return wrapper


def current_choices(preferences: list[dict]) -> dict[str, str]:
    """The person's e-mail choice per kind, as the page's select shows it."""
    choices = {}
    for preference in preferences:
        if preference["channel"] != "email":
            continue
        if not preference["enabled"]:
            choices[preference["kind"]] = "off"
        else:
            choices[preference["kind"]] = preference["digest"] if preference["digest"] != "none" else "email"
    return choices


def preference_body(choice: str) -> dict:
    """The API's body for one select's value (``email``, ``hourly``, ``daily`` or ``off``)."""
    if choice not in CHOICES:
        raise ValueError(choice)
    return {
        "channel": "email",
        "enabled": choice != "off",
        "digest": choice if choice in ("hourly", "daily") else "none",
    }


def changed_choices(form, kinds: list[str]) -> dict[str, str]:
    """The kinds whose select the person changed (``was-<kind>`` holds what the page showed)."""
    return {
        kind: form.get(f"choice-{kind}", "")
        for kind in kinds
        if form.get(f"choice-{kind}", "") != form.get(f"was-{kind}", "") and form.get(f"choice-{kind}") != DEFAULT
    }


def contact_body(form) -> dict:
    """The contact point as the API takes it; empty optional fields become null."""
    return {
        "email": form.get("email", "").strip(),
        # The API replaces the whole record: a name left out would be forgotten (and e-mails greet by it).
        "name": form.get("name", "").strip() or None,
        "time_zone": form.get("time_zone") or None,
        "language": form.get("language", "en"),
        "supervisor_email": form.get("supervisor_email", "").strip() or None,
    }


def _name_known(contact: dict | None) -> dict:
    """The name the form offers when the service knows none: the one the person signed in with (their
    identity provider's), unless that is only their id."""
    if (contact or {}).get("name") or g.user.name == g.user.sub:
        return {}
    return {"name": g.user.name}


def _shown(contact: dict) -> dict:
    """The contact point as the form shows it: an unset field is empty, not "None"."""
    return {key: "" if value is None else value for key, value in contact.items()}


# Who, by role, hears of each kind (docs/notifications.md's table); a kind not listed here is everyone's.
# Anyone may belong to a learning community, so its kinds are everyone's.
_PARTICIPANTS = ("participant",)
_SESSION_PEOPLE = ("participant", "facilitator", "specialist")
_REQUESTERS = ("agency_coordinator", "jurisdiction_admin", "national_admin")
KIND_ROLES = {
    "registration_confirmed": _PARTICIPANTS,
    "registration_waitlisted": _PARTICIPANTS,
    "registration_promoted": _PARTICIPANTS,
    "registration_cancelled": _PARTICIPANTS,
    "session_reminder": _PARTICIPANTS,
    "training_completed": _PARTICIPANTS,
    "session_scheduled": _SESSION_PEOPLE,
    "session_rescheduled": _SESSION_PEOPLE,
    "session_cancelled": _SESSION_PEOPLE,
    "request_approved": _REQUESTERS,
    "request_declined": _REQUESTERS,
    "adaptation_submitted": ("specialist",),  # the trainer's specialist reviews it
    "adaptation_reviewed": ("facilitator", "participant"),  # a trainer delivering the series adapts it
    "plan_opened": ("participant", "facilitator", "specialist"),  # the trainer and their specialist
    "specialist_assigned": ("participant", "facilitator", "specialist"),
    "commitment_due_soon": ("participant", "facilitator"),  # trainers, who completed the series
    "commitment_overdue": ("participant", "facilitator", "specialist"),
    "commitment_fulfilled": ("participant", "facilitator", "specialist"),
    "followup_due": ("coach", "specialist"),
}


def kinds_for(kinds: list[dict], roles: tuple[str, ...], chosen: dict) -> tuple[list[dict], list[dict]]:
    """The kinds a person with these roles hears of (or has chosen for), and the others, each in the list's order."""
    yours, others = [], []
    for kind in kinds:
        audience = KIND_ROLES.get(kind["kind"])
        mine = audience is None or any(role in audience for role in roles) or kind["kind"] in chosen
        (yours if mine else others).append(kind)
    return yours, others


def kind_label(kind: str) -> str:
    """``followup_due`` as people read it: "Follow-up due"."""
    return kind.replace("followup", "follow-up").replace("_", " ").capitalize()


def _path() -> str:
    return f"/contact-points/{g.user.sub}"


@blp.get("/my/notifications")
@identity.signed_in
@with_notifications
def my_notifications():
    return _render({}, None, {})


def _render(errors: dict, form, choices_form: dict, status: int = 200):
    """The page: three reads at once; a person the service does not know yet sees an empty form."""
    try:
        kinds, contact, preferences = backend().get_all(
            ("notifications", "/notification-kinds", {"token": token()}),
            ("notifications", _path(), {"token": token()}),
            ("notifications", f"{_path()}/preferences", {"token": token(), "params": {"limit": PAGE}}),
        )
    except BackendError as error:
        if error.status != 404:
            raise
        # No contact point yet (nobody registered this person with an e-mail): the kinds and an empty form.
        kinds, contact, preferences = backend().get("notifications", "/notification-kinds", token=token()), None, None
    chosen = current_choices(preferences["items"] if preferences else [])
    yours, others = kinds_for(kinds["items"], g.user.roles, chosen)
    return render_template(
        "my_notifications.html",
        contact=contact,
        form=form if form is not None else _shown(contact or {"language": "en"}) | _name_known(contact),
        errors=errors,
        kinds=yours,
        other_kinds=others,
        others_open=any(f"choice-{kind['kind']}" in errors for kind in others),  # an error there is seen
        kind_label=kind_label,
        chosen=chosen,
        shown={**chosen, **choices_form},
        choices=CHOICES,
        default=DEFAULT,
        zones=[("", "The session's own zone"), *ZONE_OPTIONS],
        languages=LANGUAGES,
    ), status


@blp.post("/my/notifications/contact")
@identity.signed_in
@with_notifications
def save_contact():
    """Create or replace where the platform writes to this person."""
    try:
        backend().put("notifications", _path(), token=token(), json=contact_body(request.form))
    except BackendError as error:
        if error.status != 422:
            raise
        return _render({**error.field_errors, "_form": error.message}, request.form, {}, 422)
    flash("Saved: we write to you at this address.")
    return redirect(url_for("notifications.my_notifications"))


def _save_each(bodies: dict[str, dict], path_of, field: str) -> tuple[int, dict[str, str]]:
    """PUT each kind's body to ``path_of(kind)``: how many were saved, and each refusal's reason beside its
    own row's ``<field>-<kind>``."""
    saved, errors = 0, {}
    for kind, body in bodies.items():
        try:
            backend().put("notifications", path_of(kind), token=token(), json=body)
            saved += 1
        except BackendError as error:
            if error.status not in (404, 422):
                raise
            errors[f"{field}-{kind}"] = " ".join(error.field_errors.values()) or error.message
    return saved, errors


@blp.post("/my/notifications/choices")
@identity.signed_in
@with_notifications
def save_choices():
    """Save the kinds whose choice changed; a refused kind shows its reason beside its own select."""
    kinds = [key.removeprefix("was-") for key in request.form if key.startswith("was-")]
    errors: dict[str, str] = {}
    changed = changed_choices(request.form, kinds)
    bodies = {}
    for kind, choice in changed.items():
        try:
            bodies[kind] = preference_body(choice)
        except ValueError:
            errors[f"choice-{kind}"] = "Choose one of the options."
    saved, refused = _save_each(bodies, lambda kind: f"{_path()}/preferences/{kind}", "choice")
    errors.update(refused)
    if errors:
        errors["_form"] = f"{saved} saved; the choices marked below were not." if saved else "Nothing was saved."
        return _render(errors, None, {k: v for k, v in changed.items() if f"choice-{k}" in errors}, 422)
    flash(f"Saved {saved} choice{'s' if saved != 1 else ''}." if saved else "Nothing changed.")
    return redirect(url_for("notifications.my_notifications"))


# --- a jurisdiction's defaults, kept by its admin --------------------------------------------------


def jurisdiction_rows(kinds: list[dict], defaults: list[dict]) -> list[dict]:
    """Each kind with the jurisdiction's default: by e-mail unless turned off; supervisors copied if asked."""
    chosen = {d["kind"]: d for d in defaults}
    return [{"email": True, "copy_supervisor": False, **kind, **chosen.get(kind["kind"], {})} for kind in kinds]


def _flags(email: bool, copy_supervisor: bool) -> str:
    return f"{'email' if email else 'off'},{'copy' if copy_supervisor else 'nocopy'}"


def changed_defaults(form) -> dict[str, dict]:
    """The kinds whose checkboxes the admin changed (``was-<kind>`` holds what the page showed), as the API
    takes each: ``{"email": …, "copy_supervisor": …}``. An unticked box is absent from the form."""
    changed = {}
    for key in form:
        if not key.startswith("was-"):
            continue
        kind = key.removeprefix("was-")
        email, copy = bool(form.get(f"email-{kind}")), bool(form.get(f"copy-{kind}"))
        if _flags(email, copy) != form.get(key):
            changed[kind] = {"email": email, "copy_supervisor": copy}
    return changed


@blp.route("/jurisdiction/e-mails", methods=["GET", "POST"])
@identity.signed_in
@with_notifications
def jurisdiction_emails():
    """A jurisdiction admin's defaults, kind by kind: two reads; one write per kind changed."""
    if not g.user.has("jurisdiction_admin"):
        # Anyone may read the defaults through the API; only the jurisdiction's admin changes them.
        raise BackendError(403, {"detail": "Only your jurisdiction's admin sets its e-mail defaults."})
    errors: dict[str, str] = {}
    if request.method == "POST":
        saved, errors = _save_each(changed_defaults(request.form), lambda kind: f"/preferences/{kind}", "email")
        if not errors:
            flash(f"Saved {saved} default{'s' if saved != 1 else ''}." if saved else "Nothing changed.")
            return redirect(url_for("notifications.jurisdiction_emails"))
        errors["_form"] = f"{saved} saved; the kinds marked below were not." if saved else "Nothing was saved."
    kinds, defaults = backend().get_all(
        ("notifications", "/notification-kinds", {"token": token()}),
        ("notifications", "/preferences", {"token": token(), "params": {"limit": PAGE}}),
    )
    return render_template(
        "jurisdiction_emails.html",
        rows=jurisdiction_rows(kinds["items"], defaults["items"]),
        flags=_flags,
        kind_label=kind_label,
        errors=errors,
    ), (422 if errors else 200)
