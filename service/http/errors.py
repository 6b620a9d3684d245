"""Exceptions to responses, in one place; each keeps its own status.

* ``Problem`` (``service.problems``: ceremonies, registrations, the APIs): JSON
  ``{"error", "message"}`` for APIs and scripts, a readable page for a person.
* ``OAuthError``: RFC 6749 5.2 JSON (``error``, ``error_description``) on the back-channel
  endpoints, a page elsewhere; ``ErrorRedirect`` sends one to a validated redirect URI.
* Framework errors (404, 405, malformed bodies) and backend outages (503).

Nothing here leaks a cause: that goes to the log.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Match

from service.auth.errors import NotSignedIn, RateLimited, SignupRejected
from service.db.engine import DatabaseUnavailable, is_database_outage
from service.http.deps import request_locale
from service.http.render import page
from service.i18n import N_, translate
from service.oidc.assurance.signed import ASYMMETRIC as DPOP_ALGORITHMS
from service.oidc.codes import with_query
from service.oidc.errors import ErrorRedirect, InvalidClient, InvalidToken, OAuthError
from service.problems import Problem
from service.store import StoreUnavailable

# Back-channel protocol endpoints: errors are RFC 6749 5.2 JSON, never pages.
PROTOCOL_JSON_PATHS = {
    "/token",
    "/userinfo",
    "/revoke",
    "/introspect",
    "/par",
    "/device_authorization",
}

log = logging.getLogger("sesame.http")


def wants_json(request: Request) -> bool:
    if request.url.path in PROTOCOL_JSON_PATHS or request.url.path.startswith(("/admin/", "/api/")):
        return True
    return "application/json" in request.headers.get("accept", "") or request.headers.get(
        "content-type", ""
    ).startswith("application/json")


def error_response(
    request: Request, status: int, error: str, message: str, **extra: object
) -> Response:
    if request.url.path in PROTOCOL_JSON_PATHS:  # RFC 6749 5.2's shape on the back channel
        body = {"error": error, "error_description": message, **extra}
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
    if wants_json(request):
        message = translate(request_locale(request), message)
        return JSONResponse({"error": error, "message": message, **extra}, status_code=status)
    return page(request, "error.html", status_code=status, error=error, message=message)


async def _problem(request: Request, exc: Exception) -> Response:
    """Every ``Problem`` (ceremonies, registrations, the APIs): its own status and code, its
    public message; the detail only in the log."""
    assert isinstance(exc, Problem)
    if isinstance(exc, NotSignedIn) and not wants_json(request):
        return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)
    detail = exc.detail or exc.message
    log.info("refused %s %s: %s (%s)", request.method, request.url.path, exc.error, detail)
    locale = request_locale(request)
    extra = {"fields": exc.localized_fields(locale)} if isinstance(exc, SignupRejected) else {}
    message = exc.localized(locale)
    response = error_response(request, exc.status_code, exc.error, message, **extra)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "body"
    message = f"Malformed request ({where}: {first.get('msg', 'invalid')})."
    return error_response(request, 400, "invalid_request", message)


METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """RFC 9110 15.5.6: a 405 lists every method the path has, across all its routes."""
    allowed = []
    for method in METHODS:
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {
        404: N_("This page does not exist."),
        405: N_("This method is not allowed here."),
    }
    codes = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}
    message = messages.get(exc.status_code, str(exc.detail))
    response = error_response(
        request, exc.status_code, codes.get(exc.status_code, "http_error"), message
    )
    if exc.status_code == 405:
        response.headers["Allow"] = allowed_methods(request)
    return response


UNAVAILABLE = N_(
    "Sesame cannot reach its storage right now. Nothing was changed; try again shortly."
)
# An app's malformed request shown to a person: what to do in words, the protocol's reason
# (for the app's developers, in English like the protocol) beneath.
APP_REQUEST_REFUSED = N_(
    "The app that sent you here made a request that cannot be accepted. Go back to the app "
    "and try again; if it keeps happening, tell the app's developers the reason below."
)


def is_outage(exc: BaseException) -> bool:
    """A backend outage (the store or the database away, restarting or dropping connections):
    503, never 500. Anything else is a bug and stays one."""
    return isinstance(exc, StoreUnavailable) or is_database_outage(exc)


async def _unavailable(request: Request, exc: Exception) -> Response:
    """One mapping for every backend outage: 503 with Retry-After (RFC 6749 JSON on the back
    channel), logged once as a warning with its cause, no traceback."""
    if not is_outage(exc):
        raise exc
    cause = exc.__cause__ or exc
    log.warning(
        "backend unavailable on %s %s: %s: %s",
        request.method,
        request.url.path,
        type(cause).__name__,
        str(cause).splitlines()[0][:200] if str(cause) else "",
    )
    if request.url.path in PROTOCOL_JSON_PATHS:
        response: Response = JSONResponse(
            {"error": "temporarily_unavailable", "error_description": UNAVAILABLE},
            status_code=503,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )
    else:
        response = error_response(request, 503, "temporarily_unavailable", UNAVAILABLE)
    response.headers["Retry-After"] = "5"
    return response


def bad_input_response(request: Request, problem: str) -> Response:
    """Text input that breaks ``service.text``'s rule (found by ``service.http.inputs``): a
    precise 400 in the endpoint's form."""
    log.info("bad input on %s: %s", request.url.path, problem)
    message = f"Malformed request: {problem}."
    if request.url.path in PROTOCOL_JSON_PATHS:
        return JSONResponse(
            {"error": "invalid_request", "error_description": message},
            status_code=400,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )
    return error_response(request, 400, "invalid_request", message)


async def _oauth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    detail = exc.detail or exc.description
    log.info("oauth error on %s: %s (%s)", request.url.path, exc.error, detail)
    if request.url.path not in PROTOCOL_JSON_PATHS:
        return page(
            request,
            "error.html",
            status_code=exc.status_code,
            error=exc.error,
            message=APP_REQUEST_REFUSED,
            detail=exc.description,
        )
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache", **exc.headers}
    if isinstance(exc, InvalidToken):
        # RFC 6750 3 (RFC 9449 7.1 for DPoP): the challenge says what was wrong with the token.
        description = exc.description.replace('"', "'")
        algs = f', algs="{" ".join(DPOP_ALGORITHMS)}"' if exc.scheme == "DPoP" else ""
        headers["WWW-Authenticate"] = (
            f'{exc.scheme} error="{exc.error}", error_description="{description}"{algs}'
        )
    elif isinstance(exc, InvalidClient):
        headers["WWW-Authenticate"] = 'Basic realm="sesame"'
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status_code,
        headers=headers,
    )


async def _error_redirect(request: Request, exc: Exception) -> Response:
    """RFC 6749 4.1.2.1 with RFC 9207: the error, the client's state and Sesame's issuer."""
    assert isinstance(exc, ErrorRedirect)
    log.info("authorization error sent to client: %s (%s)", exc.cause.error, exc.cause.description)
    location = with_query(
        exc.redirect_uri,
        {
            "error": exc.cause.error,
            "error_description": exc.cause.description,
            "state": exc.state,
            "iss": request.app.state.oidc.settings.issuer,
        },
    )
    return RedirectResponse(location, status_code=303)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OAuthError, _oauth_error)
    app.add_exception_handler(ErrorRedirect, _error_redirect)
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    outages = (StoreUnavailable, DatabaseUnavailable, SQLAlchemyError, OSError, TimeoutError)
    for exc_class in outages:
        app.add_exception_handler(exc_class, _unavailable)
