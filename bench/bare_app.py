"""The ceiling: a bare Flask app doing one primary-key SELECT, served by the same gunicorn settings."""

import os

from flask import Flask, jsonify
from sqlalchemy import text

from shared.db import create_db_engine

app = Flask("bare")
engine = create_db_engine(os.environ["BENCH_DATABASE_URL"], schema=os.environ.get("BENCH_DB_SCHEMA"))


@app.get("/modules/<module_id>")
def module(module_id):
    with engine.connect() as conn:
        row = conn.execute(text("SELECT id, title FROM modules WHERE id = :id"), {"id": module_id}).one()
    return jsonify(id=row.id, title=row.title)
