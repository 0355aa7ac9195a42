"""Content's HTTP schemas, one module per api/ module. Server-owned fields are dump_only; unknown fields are rejected."""

from shared.http.fields import Text

FORMATS = ("in_person", "virtual", "hybrid")
Id = lambda **kw: Text(36, **kw)  # noqa: E731 - a record's id (a UUID; an unknown one is a 404 or a 422)
