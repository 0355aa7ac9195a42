"""The WSGI entry point for gunicorn: ``gunicorn services.scheduling.wsgi:app``."""

from services.scheduling.app import create_app

app = create_app()
