"""Calendars: being written."""

from shared.http.api import Blueprint

blp = Blueprint("calendars", __name__, url_prefix="/calendars", description="Calendars.")
