"""Agencies: being written."""

from shared.http.api import Blueprint

blp = Blueprint("agencies", __name__, url_prefix="/agencies", description="Agencies.")
