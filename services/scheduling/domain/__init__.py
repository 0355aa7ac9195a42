"""Scheduling's pure rules: no Flask, SQLAlchemy or kombu."""
