"""The facilitators' directory: the name each facilitator of a jurisdiction is known by."""

from __future__ import annotations

from flask.views import MethodView

from services.scheduling.schemas.facilitators import (
    FacilitatorNameSchema,
    FacilitatorPage,
    FacilitatorQueryArgs,
    FacilitatorSchema,
)
from services.scheduling.use_cases import facilitators as use_cases
from shared.auth import (
    AGENCY_COORDINATOR,
    COACH,
    FACILITATOR,
    INTEGRATION,
    JURISDICTION_ADMIN,
    NATIONAL_ADMIN,
    SPECIALIST,
)
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.pagination import link_header

blp = Blueprint(
    "facilitators",
    __name__,
    url_prefix=None,
    description="The facilitators' directory: forms choose facilitators by name, certificates name them.",
)

# Everyone who names or chooses facilitators; participants do not.
READERS = (NATIONAL_ADMIN, JURISDICTION_ADMIN, AGENCY_COORDINATOR, SPECIALIST, COACH, FACILITATOR, INTEGRATION)


@blp.route("/facilitators")
class FacilitatorDirectory(MethodView):
    @require(*READERS)
    @blp.arguments(FacilitatorQueryArgs, location="query")
    @blp.response(200, FacilitatorPage, description="Ordered by name, then jurisdiction and subject.")
    def get(self, args):
        """List your jurisdiction's facilitators by name (every jurisdiction's for a national admin).

        A facilitator is listed once they have signed in to the portal, taken attendance or booked
        office hours, or once a jurisdiction admin or state system entered them.
        """
        page = use_cases.directory_page(request_uow().session, principal(), args, context().config)
        return page, 200, link_header(page)


@blp.route("/facilitators/<sub>")
class FacilitatorEntry(MethodView):
    @require(JURISDICTION_ADMIN, INTEGRATION)
    @blp.arguments(FacilitatorNameSchema)
    @blp.response(200, FacilitatorSchema)
    def put(self, data, sub):
        """Enter or rename a facilitator of your jurisdiction, e.g. from your identity provider before they sign in.

        Their own next sign-in names them as their identity provider's token does. Entering a withdrawn
        facilitator offers them again.
        """
        return use_cases.enter_facilitator(sub, data, request_uow(), principal())

    @require(JURISDICTION_ADMIN, INTEGRATION)
    @blp.response(200, FacilitatorSchema)
    @blp.alt_response(404, description="Your jurisdiction's directory has no facilitator with this subject.")
    def delete(self, sub):
        """Withdraw a facilitator who left or stopped facilitating: forms no longer offer them.

        They stay in the directory (listed with `include_withdrawn=true`), so certificates still name them;
        withdrawing again changes nothing, and `PUT` offers them again.
        """
        return use_cases.withdraw_facilitator(sub, request_uow(), principal())


@blp.route("/me/facilitator-entry")
class MyFacilitatorEntry(MethodView):
    @require(FACILITATOR)
    @blp.response(200, FacilitatorSchema)
    @blp.alt_response(422, description="Your sign-in gives no name.")
    def put(self):
        """Enter yourself in your jurisdiction's facilitators' directory, with the name your sign-in gives.

        The portal does it at each sign-in, so a rename at the identity provider reaches the directory.
        """
        return use_cases.enter_myself(request_uow(), principal())
