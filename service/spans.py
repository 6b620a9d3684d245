"""Spans of Sesame's own (an SMTP delivery, a hot-path statement on the embedded default) for
OpenTelemetry, at no cost when tracing is off: ``service.http.tracing`` turns them on when an
OTLP endpoint is configured; until then ``span`` is an empty context manager."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

_tracer: Any = None
_trace: Any = None


def enable(trace_module: Any, tracer: Any) -> None:
    """Called once tracing is set up (``opentelemetry.trace`` and Sesame's tracer)."""
    global _trace, _tracer
    _trace, _tracer = trace_module, tracer


_OFF: AbstractContextManager[Any] = nullcontext()  # holds no state: shared by every caller


def span(name: str, **attributes: Any) -> AbstractContextManager[Any]:
    """A span around the ``with`` block when tracing is on; the shared empty context manager
    otherwise (no generator made per call: the Redis and SQLite hot paths call this on every
    statement)."""
    if _tracer is None:
        return _OFF
    return _tracer.start_as_current_span(name, attributes=attributes)  # type: ignore[no-any-return]


def statement_span(system: str, statement: str, name: str = "") -> AbstractContextManager[Any]:
    """A client span for one database statement (OpenTelemetry's ``db.system`` and
    ``db.statement``), named ``name`` or the statement's first word; nothing is computed when
    tracing is off."""
    if _tracer is None:
        return _OFF
    attributes = {"db.system": system, "db.statement": statement}
    return span(name or statement.lstrip()[:6].upper(), **attributes)


def current_ids() -> dict[str, str]:
    """The current trace and span ids (hex, as OTLP and log pipelines show them), if any."""
    if _trace is None:
        return {}
    context = _trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}
