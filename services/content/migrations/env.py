"""Alembic environment of the content service."""

from alembic import context

from shared.migrations import run_env

from services.content.models import Base

run_env(context, Base.metadata)
