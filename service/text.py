"""One rule for every text input: no control characters, and a length limit.

Applied at the edge (``service.http.inputs``) to every query parameter, form field, JSON string
and path segment before any store is touched, and again wherever text arrives in another shape
(a Basic credential is base64 inside a header). PostgreSQL refuses a NUL in text and a string
longer than its column where SQLite stores both, so the rule, not the database, is what answers:
a precise 400, identical on both backends.

Refused: C0 controls (U+0000-U+001F, tab and newlines included: no field Sesame takes is
multi-line), DEL and C1 controls (U+007F-U+009F), lone surrogates (not encodable as UTF-8),
and the noncharacters U+FFFE and U+FFFF.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

# The refused characters as the body of a regex character class, written with escapes that
# Python's re and ECMA-262 (JSON Schema patterns, ``service.http.openapi``) read alike.
CONTROL_CLASS = "\\u0000-\\u001f\\u007f-\\u009f\\ufffe\\uffff"
# Lone surrogates too, which only Python strings can hold (a JSON schema need not say so).
_FORBIDDEN = re.compile(f"[{CONTROL_CLASS}\\ud800-\\udfff]")
# The longest single value any input may carry (an ID token hint is the longest honest one);
# fields stored in a column have their column's length instead.
MAX_TEXT = 8192


class TextRejected(ValueError):
    """A text input that breaks the rule; the message names the field and why."""


def text_problem(value: str, limit: int = MAX_TEXT) -> str | None:
    """Why ``value`` is refused, or None."""
    if len(value) > limit:
        return f"is longer than {limit} characters"
    if _FORBIDDEN.search(value):
        return "contains a control character"
    return None


def check_text(field: str, value: str, limit: int = MAX_TEXT) -> str:
    problem = text_problem(value, limit)
    if problem:
        raise TextRejected(f"{field} {problem}")
    return value


def split_url(value: str) -> SplitResult | None:
    """``urlsplit`` for untrusted input: None instead of a ValueError for what does not parse
    (``https://[::1``, a port out of range), so a broken URL is a refusal, never a crash."""
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a malformed or out-of-range port
    except ValueError:
        return None
    return parts
