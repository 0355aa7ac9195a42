"""Recurring: being written."""

from shared.http.api import Blueprint

blp = Blueprint("recurring", __name__, url_prefix="/recurring", description="Recurring.")
