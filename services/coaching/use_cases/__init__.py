"""Coaching's use cases: one module per family, each use case commits once (handlers' do not commit)."""
