"""Addresses refused for good by their mail server: no message is sent to them until they are cleared."""

from __future__ import annotations

from flask.views import MethodView

from services.notifications import repository as repo
from services.notifications.api import MANAGERS
from services.notifications.models import UndeliverableAddress
from services.notifications.schemas.undeliverable import (
    UndeliverableAddressPage,
    UndeliverableAddressSchema,
    UndeliverableQueryArgs,
)
from services.notifications.use_cases import undeliverable as use_cases
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.pagination import link_header, paginate

blp = Blueprint(
    "undeliverable_addresses",
    __name__,
    url_prefix="/undeliverable-addresses",
    description=(
        "Addresses whose mail server refused them for good (no such mailbox, no such domain): "
        "no message is sent to them until they are cleared. Mend the people's records, then clear."
    ),
)


@blp.route("")
class UndeliverableAddressCollection(MethodView):
    @require(*MANAGERS)
    @blp.arguments(UndeliverableQueryArgs, location="query")
    @blp.response(200, UndeliverableAddressPage)
    def get(self, args):
        """List your jurisdiction's refused addresses with the people whose e-mail each is; sync with changed_after."""
        tenant, session = principal().tenant, request_uow().session
        page = paginate(
            session,
            repo.undeliverable_addresses(
                tenant, key=use_cases.address_of(args.get("address")), cleared=args.get("cleared")
            ),
            order_by=[UndeliverableAddress.updated_at, UndeliverableAddress.address_key],
            args=args,
            config=context().config,
            updated_column=UndeliverableAddress.updated_at,
            change_column=UndeliverableAddress.change,
        )
        page["items"] = use_cases.undeliverable_addresses(session, tenant, page["items"])
        return page, 200, link_header(page)


@blp.route("/<path:address>/clear")
class UndeliverableAddressClearing(MethodView):
    @require(*MANAGERS)
    @blp.response(200, UndeliverableAddressSchema)
    def post(self, address):
        """Send to this address again (its mailbox was mended); set aside again if it is still refused."""
        return use_cases.clear_undeliverable_address(address, request_uow(), principal())
