"""The serving process: uvicorn and what it needs, nothing of the command line.

``sesame serve`` checks the settings, brings the embedded schema up to date and prepares the
metrics directory, then replaces itself (``exec``, same process id, same signals) with
``python -m service.supervisor HOST PORT LOG_LEVEL``. What the command line loaded (every
subcommand, Alembic when it migrated, the engine it checked the schema with) is gone:

* one worker (``SESAME_WORKERS=1``) is this process; it imports the app and nothing else;
* several workers: this process is only uvicorn's supervisor (the workers are spawned fresh
  and load the app themselves), about 40 MB instead of the 117 MB of a process that had
  imported the command line, and it removes the workers' metrics directory when they stop.
"""

from __future__ import annotations

import os
import sys

from service import logs, metrics
from service.settings import Settings


def command(host: str, port: int, log_level: str) -> list[str]:
    """The argv ``sesame serve`` execs into."""
    return [sys.executable, "-m", "service.supervisor", host, str(port), log_level]


def main(argv: list[str]) -> int:
    host, port, log_level = argv
    settings = Settings()
    logs.configure(settings, log_level)
    os.environ["SESAME_LOG_LEVEL"] = log_level  # each worker sets up its own logging
    # Made by ``sesame serve`` for several workers; removed here once they have stopped.
    samples = os.environ.pop("SESAME_METRICS_TEMPORARY", None)
    import uvicorn

    try:
        uvicorn.run(
            "service.app:app_from_env",
            factory=True,
            host=host,
            port=int(port),
            workers=settings.workers,
            # Forwarded headers are believed only from SESAME_TRUSTED_PROXIES, by the same
            # middleware inside the app (service.app), so tests and every server see one rule.
            proxy_headers=False,
            log_level=log_level,
            log_config=None,
            access_log=False,
            # On SIGTERM: stop accepting, let in-flight requests finish (bounded), then exit.
            timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        )
    finally:
        if samples:
            metrics.forget_multiprocess_dir(samples)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
