"""Requests: being written."""

from shared.http.api import Blueprint

blp = Blueprint("requests", __name__, url_prefix="/requests", description="Requests.")
