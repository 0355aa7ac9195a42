"""The bare ceiling: a Flask app that replays the SQL an endpoint of the service runs, and nothing else.

The plans (``bench.same_sql``) are captured from the service by the bench and read from the file
``BENCH_PLANS``. ``GET|POST /replay/<plan>?<input>=…`` runs the plan's statements for those inputs on
a pooled psycopg connection (the one used last first; at most ``BENCH_POOL_MAX`` per process, as
many as the API's engine opens) and answers with their rows as JSON. With
``BENCH_AUTOCOMMIT=1`` a plan that only reads runs without a transaction; a plan that writes always
runs in the transactions it was captured in.
"""

import json
import os
import pickle
import queue
import threading
from datetime import datetime

import psycopg
from flask import Flask, Response, request

from bench.same_sql import MissingRow, cursor_inputs, replay

app = Flask("bare")
with open(os.environ["BENCH_PLANS"], "rb") as file:
    PLANS = pickle.load(file)  # {name: (sample inputs, steps)}
DSN = os.environ["BENCH_DSN"]
OPTIONS = f"-csearch_path={os.environ['BENCH_DB_SCHEMA']} -ctimezone=UTC"
AUTOCOMMIT = os.environ.get("BENCH_AUTOCOMMIT") == "1"
# As many connections per process as the API's engine may open (its pool of 5 and 10 more).
_slots = threading.BoundedSemaphore(int(os.environ.get("BENCH_POOL_MAX", "15")))
_idle: queue.LifoQueue = queue.LifoQueue()


def _connection(writes: bool):
    _slots.acquire()
    try:
        conn = _idle.get_nowait()
    except queue.Empty:
        try:
            conn = psycopg.connect(DSN, options=OPTIONS)
        except Exception:
            _slots.release()
            raise
    conn.autocommit = AUTOCOMMIT and not writes
    return conn


def _release(conn, *, broken: bool = False) -> None:
    if broken:
        conn.close()
    else:
        _idle.put(conn)
    _slots.release()


def _inputs(sample: dict) -> dict:
    """The request's inputs, typed as the sample's; a ``cursor`` is unpacked into ``cursor_<n>``."""
    given = dict(request.args)
    if "cursor" in given:
        given.update(cursor_inputs(given.pop("cursor")))
    inputs = {}
    for name, example in sample.items():
        value = given.get(name)
        if isinstance(example, datetime) and isinstance(value, str):
            value = datetime.fromisoformat(value)
        inputs[name] = value
    return inputs


@app.route("/replay/<name>", methods=["GET", "POST"])
def replay_plan(name):
    sample, steps = PLANS[name]
    writes = any(step.commit for step in steps)
    conn = _connection(writes)
    try:
        rows = replay(conn, steps, sample, _inputs(sample), autocommit=conn.autocommit)
    except MissingRow as exc:
        conn.rollback()
        _release(conn)
        return Response(json.dumps({"detail": str(exc)}), status=404, mimetype="application/json")
    except Exception:
        _release(conn, broken=True)
        raise
    _release(conn)
    return Response(json.dumps(rows, default=str), status=201 if writes else 200, mimetype="application/json")


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
