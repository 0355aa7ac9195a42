"""Consumed event type -> use case. Content consumes no events (see ARCHITECTURE.md)."""

HANDLERS: dict = {}
