"""Prometheus metrics (scraped at ``/metrics``). Labels are bounded: route templates, not paths;
outcomes from a fixed set; never a user, client or token."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "sesame_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "sesame_http_request_duration_seconds",
    "HTTP request latency by route",
    ["route"],
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
RATE_LIMITED = Counter("sesame_rate_limit_hits_total", "Requests refused by a rate limit", ["kind"])
