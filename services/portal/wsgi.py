"""The portal's WSGI application for gunicorn."""

from services.portal.app import create_app

app = create_app()
