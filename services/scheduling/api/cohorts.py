"""Cohorts: being written."""

from shared.http.api import Blueprint

blp = Blueprint("cohorts", __name__, url_prefix="/cohorts", description="Cohorts.")
