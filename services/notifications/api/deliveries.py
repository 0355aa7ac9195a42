"""The delivery log: what was sent to whom, when, how long it took; failures retried on demand."""

from __future__ import annotations

from flask.views import MethodView

from services.notifications import repository as repo
from services.notifications.api import MANAGERS
from services.notifications.models import Delivery
from services.notifications.schemas.deliveries import DeliveryPage, DeliveryQueryArgs, DeliverySchema
from services.notifications.use_cases.sending import retry_delivery
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.pagination import link_header, paginate

blp = Blueprint(
    "deliveries",
    __name__,
    url_prefix="/deliveries",
    description="Every message notifications sent or will send: status, attempts, errors, latency.",
)


@blp.route("")
class DeliveryCollection(MethodView):
    @require(*MANAGERS)
    @blp.arguments(DeliveryQueryArgs, location="query")
    @blp.response(200, DeliveryPage)
    def get(self, args):
        """List your jurisdiction's messages, newest changes last; filter by status, template, person or address."""
        filters = {name: args.get(name) for name in ("status", "channel", "template", "person", "recipient")}
        filters["content_kept"] = args.get("content_kept")
        page = paginate(
            request_uow().session,
            repo.deliveries(principal().tenant, **filters),
            order_by=[Delivery.created_at, Delivery.id],
            args=args,
            config=context().config,
            updated_column=Delivery.created_at,
            change_column=Delivery.change,
        )
        return page, 200, link_header(page)


@blp.route("/<delivery_id>")
class DeliveryItem(MethodView):
    @require(*MANAGERS)
    @blp.response(200, DeliverySchema)
    def get(self, delivery_id):
        """Show one message of the log."""
        return repo.delivery(request_uow().session, principal().tenant, delivery_id)


@blp.route("/<delivery_id>/retry")
class DeliveryRetry(MethodView):
    @require(*MANAGERS)
    @blp.response(200, DeliverySchema)
    def post(self, delivery_id):
        """Send a failed message again now, with the same Message-ID."""
        return retry_delivery(delivery_id, request_uow(), principal())
