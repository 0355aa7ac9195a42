"""Materials: being written."""

from shared.http.api import Blueprint

blp = Blueprint("materials", __name__, url_prefix="/materials", description="Materials.")
