"""Preferences at two levels: a jurisdiction's default per kind of notification, and each person's overrides."""

from __future__ import annotations

from flask.views import MethodView

from services.notifications import repository as repo
from services.notifications.api import MANAGERS, check_person
from services.notifications.domain.kinds import (
    CALL_REMINDER,
    COMMUNITY_LEFT,
    DIGESTIBLE,
    KINDS,
    REMINDER,
    TEMPLATES,
)
from services.notifications.models import JurisdictionPreference, PersonPreference
from services.notifications.schemas.preferences import (
    JurisdictionPreferencePage,
    JurisdictionPreferenceSchema,
    KindList,
    PersonPreferencePage,
    PersonPreferenceSchema,
)
from services.notifications.use_cases import contact_points as use_cases
from shared.auth import JURISDICTION_ADMIN, NATIONAL_ADMIN
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.pagination import PageArgs, link_header, paginate
from shared.http.problems import Problem

blp = Blueprint(
    "preferences",
    __name__,
    url_prefix="",
    description="What each kind of notification does by default in a jurisdiction, and what each person chose. "
    "A session cancelled or moved within 48 hours of its start reaches its people whatever they chose.",
)


def _kind(kind: str) -> str:
    if kind not in TEMPLATES:
        raise Problem(404, "No kind of notification with this name; GET /notification-kinds lists them.")
    return kind


@blp.route("/notification-kinds")
class NotificationKinds(MethodView):
    @require()
    @blp.response(200, KindList)
    def get(self):
        """List the kinds of notification, the events that cause them and who hears of them."""
        kinds: dict[str, dict] = {}
        for event_type, kind in [
            *KINDS.items(),
            ("(a reminder before each session)", REMINDER),
            ("(a reminder before each community call)", CALL_REMINDER),
            ("content.community.member_left", COMMUNITY_LEFT),
        ]:
            entry = kinds.setdefault(
                kind.template,
                {
                    "kind": kind.template,
                    "audience": kind.audience,
                    "event_types": [],
                    "digestible": kind.template in DIGESTIBLE,
                },
            )
            entry["event_types"].append(event_type)
        for name in ("session_cancelled", "session_rescheduled"):
            kinds[name]["critical"] = "within 48 hours of the session: sent whatever the preferences"
        for name in ("community_call_cancelled", "community_call_rescheduled"):
            kinds[name]["critical"] = "within 48 hours of the call: sent whatever the preferences"
        return {"items": [kinds[name] for name in sorted(kinds)]}


@blp.route("/preferences")
class JurisdictionPreferences(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, JurisdictionPreferencePage)
    def get(self, args):
        """List your jurisdiction's defaults (a kind not listed goes out by e-mail)."""
        page = paginate(
            request_uow().session,
            repo.jurisdiction_preferences(principal().tenant),
            order_by=[JurisdictionPreference.updated_at, JurisdictionPreference.kind],
            args=args,
            config=context().config,
            updated_column=JurisdictionPreference.updated_at,
            change_column=JurisdictionPreference.change,
        )
        return page, 200, link_header(page)


@blp.route("/preferences/<kind>")
class JurisdictionPreferenceItem(MethodView):
    @require(NATIONAL_ADMIN, JURISDICTION_ADMIN)
    @blp.arguments(JurisdictionPreferenceSchema)
    @blp.response(200, JurisdictionPreferenceSchema)
    def put(self, data, kind):
        """Set your jurisdiction's default for one kind of notification, and whether supervisors get a copy."""
        return use_cases.set_jurisdiction_preference(_kind(kind), data, request_uow(), principal())


@blp.route("/contact-points/<person>/preferences")
class PersonPreferences(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, PersonPreferencePage)
    def get(self, args, person):
        """List a person's overrides (yours, or any in your jurisdiction if you manage it)."""
        who = principal()
        page = paginate(
            request_uow().session,
            repo.person_preferences(who.tenant, check_person(person, who)),
            order_by=[PersonPreference.updated_at, PersonPreference.kind, PersonPreference.channel],
            args=args,
            config=context().config,
            updated_column=PersonPreference.updated_at,
            change_column=PersonPreference.change,
        )
        return page, 200, link_header(page)


@blp.route("/contact-points/<person>/preferences/<kind>")
class PersonPreferenceItem(MethodView):
    @require()
    @blp.arguments(PersonPreferenceSchema)
    @blp.response(200, PersonPreferenceSchema)
    def put(self, data, person, kind):
        """Turn one kind of notification on or off on one channel for a person."""
        who = principal()
        return use_cases.set_person_preference(check_person(person, who), _kind(kind), data, request_uow(), who)


__all__ = ["blp", "MANAGERS"]
