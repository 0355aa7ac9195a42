"""The WSGI entry point for gunicorn: ``gunicorn services.coaching.wsgi:app``."""

from services.coaching.app import create_app

app = create_app()
