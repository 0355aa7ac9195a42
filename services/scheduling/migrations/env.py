"""Alembic environment of the scheduling service."""

from alembic import context

from shared.migrations import run_env

from services.scheduling.models import Base

run_env(context, Base.metadata)
