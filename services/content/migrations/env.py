"""Alembic environment of the content service."""

from alembic import context

from services.content.models import Base
from shared.migrations import run_env

run_env(context, Base.metadata)
