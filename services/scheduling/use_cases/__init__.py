"""Use cases: one module per family of what users do; each reads and writes through the repository."""
