"""Adaptations: being written."""

from shared.http.api import Blueprint

blp = Blueprint("adaptations", __name__, url_prefix="/adaptations", description="Adaptations.")
