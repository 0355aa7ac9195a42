"""Coaching's HTTP resources, one module per resource: blueprint and MethodViews."""
