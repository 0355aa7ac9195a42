"""Scheduling's HTTP schemas, one module per resource. Server-owned fields are dump_only; unknown fields are rejected."""
