"""OpenTelemetry traces (issue 16, item 4): off by default, on with the standard ``OTEL_*``
variables. Set ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) and
every request becomes a trace exported over OTLP/HTTP: the request's server span (FastAPI's
instrumentation, wrapping every middleware), its SQL (SQLAlchemy's, and asyncpg's for the hot
paths that use the driver directly), its Redis commands, and Sesame's own spans for SMTP
deliveries (``service.spans``). ``OTEL_SERVICE_NAME`` (default ``sesame``),
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER`` and ``OTEL_BSP_*`` work as everywhere;
``OTEL_SDK_DISABLED=true`` turns it off again. The JSON log line of a request carries its
``trace_id`` and ``span_id``.

Nothing of the SDK or the instrumentations is imported while it is off (FastAPI itself loads
the small ``opentelemetry-api``)."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from service import spans


def enabled() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(
        os.environ.get(name)
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def install(app: Any, engine: AsyncEngine) -> Any:
    """Instrument this app (one per worker process); returns the provider to shut down (which
    flushes the last spans), or None when tracing is off."""
    if not enabled():
        return None
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    defaults = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: "sesame"}
    provider = TracerProvider(resource=Resource.create(defaults))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="/healthz,/readyz,/metrics"
    )
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, tracer_provider=provider)
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    RedisInstrumentor().instrument(tracer_provider=provider)
    spans.enable(trace, provider.get_tracer("sesame"))
    return provider
