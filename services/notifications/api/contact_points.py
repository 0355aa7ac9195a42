"""Contact points: each person's e-mail, time zone and language, kept by state systems and by people."""

from __future__ import annotations

from flask.views import MethodView

from services.notifications import repository as repo
from services.notifications.api import MANAGERS, check_person
from services.notifications.models import ContactPoint
from services.notifications.schemas.contact_points import ContactPointPage, ContactPointSchema
from services.notifications.use_cases import contact_points as use_cases
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.pagination import PageArgs, link_header, paginate
from shared.http.problems import Problem

blp = Blueprint(
    "contact_points",
    __name__,
    url_prefix="/contact-points",
    description="How each person is reached: e-mail, time zone, language (English or Spanish), supervisor.",
)


@blp.route("")
class ContactPointCollection(MethodView):
    @require(*MANAGERS)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ContactPointPage)
    def get(self, args):
        """List your jurisdiction's contact points; sync them with changed_after."""
        page = paginate(
            request_uow().session,
            repo.contact_points(principal().tenant),
            order_by=[ContactPoint.updated_at, ContactPoint.id],
            args=args,
            config=context().config,
            updated_column=ContactPoint.updated_at,
            change_column=ContactPoint.change,
        )
        return page, 200, link_header(page)


@blp.route("/<person>")
class ContactPointItem(MethodView):
    @require()
    @blp.response(200, ContactPointSchema)
    def get(self, person):
        """Show how a person is reached (yours, or any in your jurisdiction if you manage it)."""
        who = principal()
        row = repo.contact_point(request_uow().session, who.tenant, check_person(person, who))
        if row is None:
            raise Problem(404, "No contact point for this person in your jurisdiction.", title="Not Found")
        return row

    @require()
    @blp.arguments(ContactPointSchema)
    @blp.response(200, ContactPointSchema)
    def put(self, data, person):
        """Create or replace how a person is reached; registrations and rosters also keep the e-mail current."""
        who = principal()
        return use_cases.put_contact_point(check_person(person, who), data, request_uow(), who)
