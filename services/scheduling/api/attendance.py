"""Attendance: being written."""

from shared.http.api import Blueprint

blp = Blueprint("attendance", __name__, url_prefix="/attendance", description="Attendance.")
