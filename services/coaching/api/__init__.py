"""Coaching's HTTP resources, one module per resource: blueprint and MethodViews."""

from __future__ import annotations

from services.coaching.use_cases import Listing
from shared.http.api import context, request_uow
from shared.http.pagination import paginate


def page_of(listing: Listing, args: dict) -> dict:
    """One page of a use case's listing, cursor and sync arguments applied, its rows shown as it says."""
    page = paginate(
        request_uow().session,
        listing.statement,
        order_by=list(listing.order_by),
        args=args,
        config=context().config,
        updated_column=listing.updated_column,
        change_column=listing.change_column,
    )
    page["items"] = listing.present(page["items"])
    return page
