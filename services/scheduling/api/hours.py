"""Hours: being written."""

from shared.http.api import Blueprint

blp = Blueprint("hours", __name__, url_prefix="/hours", description="Hours.")
