"""The HTTP layer every service shares: API setup, problem details, auth, pagination, idempotency, health."""
