"""Content's pure rules: no Flask, SQLAlchemy or kombu (an import-linter contract keeps it so)."""
