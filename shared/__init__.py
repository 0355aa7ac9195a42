"""The project's common package: configuration, database, HTTP, auth and messaging used by every service."""
