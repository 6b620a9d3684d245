"""Log format: one JSON object per line in production (``SESAME_LOG_FORMAT=json``), readable
text in development. Nothing logged carries a secret: requests are logged by route template
(``/signin/email/{token}``, never the token), and no code, link or token is put in a record."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from service.settings import Settings
from service.spans import current_ids

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        entry.update(current_ids())  # the request's trace, when tracing is on
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(settings: Settings, level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stdout)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Requests are logged once, by Sesame's own middleware (with route and request id).
    logging.getLogger("uvicorn.access").disabled = True
