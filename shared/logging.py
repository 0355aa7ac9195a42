"""JSON logs (structlog): one line per request and per handled message, carrying the correlation id.

Every line a process writes is one JSON object: the platform's own events (structlog) and what the
libraries log through the standard library (gunicorn, kombu, SQLAlchemy, fpdf2), which the root
logger formats with structlog's ``ProcessorFormatter``; a traceback travels inside its line.
"""

from __future__ import annotations

import logging
import logging.config
import sys

import structlog

# Libraries that log their inner workings at INFO: fontTools writes a line per table it subsets
# each time a certificate is rendered, alembic one per plugin it loads, and kombu's consumer names
# its transport by class (the consumer logs its own "consumer connected" line instead).
QUIET_LIBRARIES = {"fontTools": "WARNING", "alembic.runtime.plugins": "WARNING", "kombu.mixins": "WARNING"}

_configured = False


def _timestamp():
    return structlog.processors.TimeStamper(fmt="iso", utc=True)


def json_formatter() -> logging.Formatter:
    """A stdlib formatter that writes a record as the same JSON line structlog writes."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            _timestamp(),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )


def stdlib_config(level: str = "INFO") -> dict:
    """``logging.config.dictConfig`` settings: the root logger as JSON on stdout, noisy libraries quieter."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": json_formatter}},
        "handlers": {"json": handler},
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {name: {"level": quiet} for name, quiet in QUIET_LIBRARIES.items()},
    }


def configure_logging(level: str = "INFO") -> None:
    global _configured
    if _configured:
        return
    level = level if level in logging.getLevelNamesMapping() else "INFO"
    logging.config.dictConfig(stdlib_config(level))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _timestamp(),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )
    _configured = True


def get_logger(name: str):
    return structlog.get_logger(name)
