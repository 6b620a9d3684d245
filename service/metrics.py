"""Prometheus metrics (scraped at ``/metrics``). Labels are bounded: route templates, not paths;
outcomes from a fixed set; never a user, client or token.

With several workers (``SESAME_WORKERS``), ``sesame serve`` runs them in prometheus_client's
multiprocess mode: each worker writes its samples to files in one directory
(``PROMETHEUS_MULTIPROC_DIR``, set before any worker starts) and ``/metrics``, whichever worker
answers it, adds them all up, so a scrape reports the totals of the whole server."""

from __future__ import annotations

import os
import shutil
import tempfile

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def use_multiprocess_mode() -> str | None:
    """An empty directory for the workers' samples, named in the environment they inherit:
    ``PROMETHEUS_MULTIPROC_DIR`` when the operator set it (emptied: samples of a previous run
    must not count), else a temporary one. Called by ``sesame serve`` before it starts more
    than one worker; returns the temporary directory to remove afterwards."""
    given = os.environ.get(MULTIPROCESS_ENV)
    if given:
        shutil.rmtree(given, ignore_errors=True)
        os.makedirs(given, exist_ok=True)
        return None
    path = tempfile.mkdtemp(prefix="sesame-metrics-")
    os.environ[MULTIPROCESS_ENV] = path
    return path


def forget_multiprocess_dir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def exposition() -> bytes:
    """The text format of every metric: this process's, or all workers' added up."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return bytes(generate_latest(registry))
    return bytes(generate_latest(REGISTRY))


REQUESTS = Counter(
    "sesame_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "sesame_http_request_duration_seconds",
    "HTTP request latency by route and outcome (ok: below 400, refused: 4xx, failed: 5xx)",
    ["route", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
SIGNINS = Counter(
    "sesame_signins_total", "Sign-in attempts by method and outcome", ["method", "outcome"]
)
TOKENS = Counter("sesame_tokens_issued_total", "Token responses by grant type", ["grant"])
EMAILS = Counter(
    "sesame_emails_total", "Emails by outcome (queued, sent, failed, dropped)", ["outcome"]
)
LOGOUTS = Counter(
    "sesame_logout_tokens_total",
    "Back-channel logout tokens by outcome (delivered, failed, refused, abandoned)",
    ["outcome"],
)
SWEPT = Counter("sesame_swept_rows_total", "Rows removed by housekeeping, by kind", ["kind"])
RATE_LIMITED = Counter("sesame_rate_limit_hits_total", "Requests refused by a rate limit", ["kind"])


def outcome(status: int) -> str:
    """The bounded outcome label of a status: ok, refused (4xx) or failed (5xx)."""
    return "ok" if status < 400 else "refused" if status < 500 else "failed"
