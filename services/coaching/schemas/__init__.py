"""Coaching's HTTP schemas, one module per api/ module. Server-owned fields are dump_only; unknown fields are rejected."""
