"""Coaching's rules, free of Flask, SQLAlchemy and kombu."""
