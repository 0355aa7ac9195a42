"""The ceiling: a bare Flask app doing one primary-key SELECT, served by the same gunicorn settings."""

import os

from flask import Flask, jsonify
from sqlalchemy import text

from shared.db import create_db_engine

app = Flask("bare")
engine = create_db_engine(os.environ["BENCH_DATABASE_URL"], schema=os.environ.get("BENCH_DB_SCHEMA"))


# The table to read: content's modules, or scheduling's sessions; both have an id and a title.
TABLE = {"modules": "modules", "sessions": "sessions"}[os.environ.get("BENCH_TABLE", "modules")]
QUERY = text(f"SELECT id, title FROM {TABLE} WHERE id = :id")


@app.get("/rows/<row_id>")
def row(row_id):
    with engine.connect() as conn:
        found = conn.execute(QUERY, {"id": row_id}).one()
    return jsonify(id=found.id, title=found.title)
