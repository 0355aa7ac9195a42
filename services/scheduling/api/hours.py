"""Training hours for state registries, per participant and cohort, as JSON or CSV."""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView

from shared.auth import INTEGRATION, JURISDICTION_ADMIN, NATIONAL_ADMIN
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.pagination import link_header, paginate

from services.scheduling import hours
from services.scheduling.schemas.hours import TrainingHoursArgs, TrainingHoursPage

blp = Blueprint("hours", __name__, url_prefix="/training-hours",
                description="Training hours credited from attendance, for state registries.")

CSV = "text/csv"


def _wants_csv(args: dict) -> bool:
    if args.get("format"):
        return args["format"] == "csv"
    return request.accept_mimetypes.best_match(["application/json", CSV], default="application/json") == CSV


@blp.route("")
class TrainingHours(MethodView):
    @require(JURISDICTION_ADMIN, INTEGRATION, NATIONAL_ADMIN)
    @blp.arguments(TrainingHoursArgs, location="query")
    @blp.response(200, TrainingHoursPage, description=(
        "A page of rows, ordered by updated_at then registration_id; `Accept: text/csv` or `format=csv` "
        "returns the same page as CSV with a header row, the next page in the `Link` header."))
    @blp.doc(responses={200: {"content": {CSV: {"schema": {"type": "string"}}}}})
    def get(self, args):
        """List training hours per participant and cohort of your jurisdiction, with completions and registry ids.

        Filter by session date (`from`, `to`, in each cohort's time zone) and `updated_since` to sync
        incrementally. `verification` is `verified` for every row: hours are credited from attendance.
        """
        session, config = request_uow().session, context().config
        stmt, order_by, updated_column = hours.training_hours_query(session, principal(), args)
        page = paginate(session, stmt, order_by=order_by, args=args, config=config, updated_column=updated_column)
        page["items"] = [hours.describe(row) for row in page["items"]]
        headers = link_header(page)
        if _wants_csv(args):
            response = Response(hours.to_csv(page["items"]), mimetype=CSV)
            response.headers["Content-Disposition"] = 'attachment; filename="training-hours.csv"'
            response.headers.update(headers)
            response.vary.add("Accept")
            return response
        return page, 200, {**headers, "Vary": "Accept"}
