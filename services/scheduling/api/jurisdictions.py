"""Jurisdictions: being written."""

from shared.http.api import Blueprint

blp = Blueprint("jurisdictions", __name__, url_prefix="/jurisdictions", description="Jurisdictions.")
