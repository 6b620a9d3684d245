"""Spans of Sesame's own (an SMTP delivery, a hot-path statement on the embedded default) for
OpenTelemetry, at no cost when tracing is off: ``service.http.tracing`` turns them on when an
OTLP endpoint is configured; until then ``span`` is an empty context manager."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_tracer: Any = None
_trace: Any = None


def enable(trace_module: Any, tracer: Any) -> None:
    """Called once tracing is set up (``opentelemetry.trace`` and Sesame's tracer)."""
    global _trace, _tracer
    _trace, _tracer = trace_module, tracer


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[None]:
    if _tracer is None:
        yield
        return
    with _tracer.start_as_current_span(name, attributes=attributes):
        yield


def current_ids() -> dict[str, str]:
    """The current trace and span ids (hex, as OTLP and log pipelines show them), if any."""
    if _trace is None:
        return {}
    context = _trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}
