"""Secrets never reach the log: tokens that an old client still puts in a URL are redacted.

uvicorn logs every request's path with its query string ("GET /ws/events?token=..."). Pages
send tokens in headers or websocket subprotocols, but a client of an older version, or a
person typing a link, may still put one in the query, and a resident's ticket page and booking
carry theirs in the path; this filter rewrites such a line before any handler sees it:
`token=…`, `ticket=…`, `code=…` and those paths become `…[redacted]`.
"""

from __future__ import annotations

import logging
import re

_SECRET_QUERY = re.compile(r"((?:^|[?&\s\"'])(?:token|ticket|code)=)[^&\s\"']+", re.IGNORECASE)
# A ticket's page and JSON (/t/<token>, /api/tickets/<token>) and a booking's (/a/<code>,
# /api/appointments/<code>) carry theirs in the path.
_SECRET_PATH = re.compile(r"(/t/|/api/tickets/(?=[A-Za-z0-9_-]{12})|/a/|/api/appointments/"
                          r"(?=[2-9A-Z]{8}(?:[/?\s\"']|$)))[A-Za-z0-9_-]{6,}")
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn")


def redact(text: str) -> str:
    return _SECRET_PATH.sub(r"\1[redacted]", _SECRET_QUERY.sub(r"\1[redacted]", text))


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to logging itself
            return True
        clean = redact(text)
        if clean != text:
            record.msg, record.args = clean, None
        return True


def install() -> None:
    """Attach the filter to uvicorn's loggers (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
