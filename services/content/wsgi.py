"""The WSGI entry point for gunicorn: ``gunicorn services.content.wsgi:app``."""

from services.content.app import create_app

app = create_app()
