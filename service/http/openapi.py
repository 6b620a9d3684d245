"""The OpenAPI description says what the API answers (``/openapi.json``, ``/docs``).

* Every operation lists every error status it can answer, each with the one error body
  (``ErrorOut``); the routers declare them with ``error_responses``.
* FastAPI's own 422 is never answered (validation errors are 400 here), so it is not listed.
* Every request string carries ``service.text``'s rule as a pattern and a length, so a client
  generated from the schema never sends what the edge refuses.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from service.text import CONTROL_CLASS, MAX_TEXT

PATH_PARAM_MAX = 1400
# ECMA-262, as JSON Schema patterns are: no C0/C1 controls, no DEL, no U+FFFE/U+FFFF.
_TEXT = f"[^{CONTROL_CLASS}]"
TEXT_PATTERN = f"^{_TEXT}*$"
# A name: the text rule, and at least one character that is not a space.
NAME_PATTERN = f"^{_TEXT}*[^\\s{CONTROL_CLASS}]{_TEXT}*$"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = f"{_LABEL}(?:\\.{_LABEL})*"
HOST_PATTERN = f"^{_HOST}$"
_PORT = "(?::[1-9][0-9]{0,3})?"
_PATH = "(?:/[A-Za-z0-9._~!$&'()+,;=:@%/-]*)?(?:\\?[A-Za-z0-9._~!$&'()+,;=:@%/?-]*)?"
# Redirect URIs (RFC 9700 4.1, RFC 8252 7.1-7.3): https, or http on a loopback host; no userinfo,
# no fragment, no wildcard, no white space. A public client may also use a private-use scheme
# in reverse domain order (NATIVE_REDIRECT_URI_PATTERN).
REDIRECT_URI_PATTERN = (
    f"^(?:https://{_HOST}|http://(?:localhost|127\\.0\\.0\\.1|\\[::1\\])){_PORT}{_PATH}$"
)
_SCHEME = "[a-z][a-z0-9-]*(?:\\.[a-z0-9][a-z0-9-]*)+"
NATIVE_REDIRECT_URI_PATTERN = f"(?:{REDIRECT_URI_PATTERN})|(?:^{_SCHEME}:(?://{_HOST})?{_PATH}$)"
ORIGIN_PATTERN = f"^(?:https://{_HOST}|http://(?:localhost|127\\.0\\.0\\.1)){_PORT}$"


class ErrorOut(BaseModel):
    """Every error of the admin API and the passkey API."""

    error: str = Field(description="A stable code, e.g. invalid_request, not_found")
    message: str = Field(description="What was wrong, for a person")


_WHY = {
    400: "Malformed or refused input",
    401: "Missing or wrong credentials (admin token or API key)",
    404: "No such resource (or the admin API is disabled)",
    403: "Refused by a setting (e.g. SESAME_SIGNUP=closed)",
    409: "Conflicts with what exists (e.g. a client id already registered)",
    413: "The request body is over 64 KiB",
    429: "Rate limited; Retry-After says when to try again",
    503: "Storage unavailable; Retry-After says when to try again",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorOut, "description": _WHY[code]} for code in codes}


def _strings(node: Any) -> None:
    """Give every plain string schema the text rule (patterns, enums and formats already say
    more than it does)."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"pattern", "enum", "const", "format"} & set(node):
            node["pattern"] = TEXT_PATTERN
            node.setdefault("maxLength", MAX_TEXT)
        for value in node.values():
            _strings(value)
    elif isinstance(node, list):
        for value in node:
            _strings(value)


def _request_side(schema: dict[str, Any]) -> None:
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            operation.get("responses", {}).pop("422", None)
            for parameter in operation.get("parameters", []):
                _strings(parameter.get("schema"))
                if parameter.get("in") == "path" and "schema" in parameter:
                    # An id in a path: the longest is a credential id (1023 bytes, base64url).
                    limit = parameter["schema"].get("maxLength", PATH_PARAM_MAX)
                    parameter["schema"]["maxLength"] = min(limit, PATH_PARAM_MAX)
                    parameter["schema"].setdefault("minLength", 1)
            _strings(operation.get("requestBody"))
    components = schema.get("components", {}).get("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for name, component in components.items():
        if not name.endswith("Out"):
            _strings(component)


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _request_side(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
