"""Registrations: being written."""

from shared.http.api import Blueprint

blp = Blueprint("registrations", __name__, url_prefix="/registrations", description="Registrations.")
