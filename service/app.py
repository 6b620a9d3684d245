"""``create_app(settings)``: the FastAPI application with its routers, handlers and lifespan."""

from __future__ import annotations

import gc
import os
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from types import FrameType

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from service import logs
from service.auth import first_admin
from service.auth.context import AuthContext
from service.clock import Clock, SystemClock
from service.db.engine import Database
from service.email.sender import Mailer
from service.http import (
    account_data,
    admin,
    back_channel,
    branding,
    ceremonies,
    console,
    device,
    email_address,
    email_signin,
    interaction,
    languages,
    ops,
    pages,
    passkey_api,
    tracing,
)
from service.http import oidc as oidc_routes
from service.http.branding import load_brand
from service.http.cookies import CookieNames
from service.http.cors import CorsMiddleware
from service.http.direct import DirectRoutes
from service.http.errors import bad_input_response, install_error_handlers
from service.http.failure_gate import FailureGate
from service.http.head import HeadAsGet
from service.http.inputs import InputGuard
from service.http.middleware import SecurityMiddleware
from service.http.observability import ObservabilityMiddleware
from service.http.openapi import install_openapi
from service.http.render import WEB_DIR
from service.keys.keyed import Keyring
from service.keys.sealed import Sealer
from service.keys.signing import Signer
from service.lifecycle.sweeper import Sweeper
from service.oidc.backchannel import LogoutSender
from service.oidc.context import OidcContext
from service.settings import Settings
from service.store import open_store
from service.webhooks.sender import WebhookSender


def build_contexts(
    settings: Settings, clock: Clock | None = None
) -> tuple[AuthContext, OidcContext]:
    """The shared parts (database, store, clock, keys) seen by auth and by the protocol."""
    clock = clock or SystemClock()
    keys = Keyring(settings.ensure_secret_key())
    db = Database(settings.database_url)
    store = open_store(settings.redis_url, settings.redis_prefix)
    signer = Signer(
        db,
        clock,
        keys.derive("signing-key-encryption"),
        cache_seconds=settings.signing_key_cache_seconds,
        max_token_seconds=settings.max_token_seconds,
    )
    mailer = Mailer(settings, db, clock, Sealer(keys.derive("outbox-encryption")))
    auth = AuthContext(
        settings=settings,
        db=db,
        store=store,
        clock=clock,
        keys=keys,
        mailer=mailer,
        signer=signer,
    )
    oidc = OidcContext(settings=settings, db=db, store=store, clock=clock, keys=keys, signer=signer)
    return auth, oidc


def _drain_on_sigterm(app: FastAPI) -> None:
    """SIGTERM turns /readyz to 503 at once, before uvicorn (whose handler runs next) closes
    the listener and lets requests in flight finish: a load balancer polling readiness on a
    kept-alive connection stops routing here straight away. Signals reach only the main
    thread; elsewhere (tests driving the app in process) there is nothing to hook."""
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        app.state.draining = True
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)


def _version() -> str:
    """One version source: the installed package's metadata (pyproject.toml)."""
    try:
        return metadata.version("sesame")
    except metadata.PackageNotFoundError:  # running from a source tree that was not installed
        return "0+unknown"


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    ctx, oidc = build_contexts(settings, clock)
    logouts = LogoutSender(oidc)
    webhooks = WebhookSender(oidc)
    sweeper = Sweeper(ctx.db, ctx.clock, settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # First start: signing keys are created once and shared through the database; the
        # ones that sign now are opened here, not by the first token (``Signer.warm``).
        await oidc.signer.ensure()
        await oidc.signer.warm()
        await first_admin.announce(ctx)
        _drain_on_sigterm(_app)
        ctx.mailer.start()
        logouts.start()
        webhooks.start()
        sweeper.start()
        # What start-up made lives as long as the process: moved out of the collector's sight,
        # full collections under load walk only what requests allocate (shorter pauses).
        gc.freeze()
        yield
        await sweeper.stop()
        await ctx.background.drain()
        await ctx.mailer.stop()
        await logouts.stop()
        await webhooks.stop()
        await ctx.store.close()
        await ctx.db.dispose()
        if _app.state.tracer_provider is not None:
            _app.state.tracer_provider.shutdown()  # the last spans are exported

    app = FastAPI(
        title="Sesame",
        lifespan=lifespan,
        version=_version(),
        description="Passwordless identity service and OpenID Connect provider. The schema "
        "documents the admin API; the protocol endpoints follow their RFCs.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.ctx = ctx
    app.state.draining = False
    app.state.oidc = oidc
    app.state.logouts = logouts
    app.state.webhooks = webhooks
    app.state.cookies = CookieNames(settings)
    install_error_handlers(app)
    install_openapi(app)
    app.state.brand = load_brand(settings)
    app.include_router(ops.router)
    app.include_router(branding.router)
    app.include_router(pages.router)
    app.include_router(languages.router)
    app.include_router(account_data.router)
    app.include_router(ceremonies.router)
    app.include_router(oidc_routes.router)
    app.include_router(interaction.router)
    app.include_router(admin.router)
    app.include_router(console.router)
    app.include_router(email_signin.router)
    app.include_router(email_address.router)
    app.include_router(passkey_api.router)
    app.include_router(device.router)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    # Every text input passes ``service.text``'s rule before any route touches a store; inside
    # the security middleware, which caps the body before anything reads it.
    # Innermost: the back channel's form POSTs and the passkey ceremonies' JSON POSTs are
    # answered before routing, with the body InputGuard checked (service.http.direct).
    app.state.failure_gate = FailureGate(oidc)
    direct = {**back_channel.routes(oidc, app.state.failure_gate), **ceremonies.DIRECT}
    app.add_middleware(DirectRoutes, routes=direct, handlers=app.exception_handlers)
    app.add_middleware(HeadAsGet)
    app.add_middleware(InputGuard, refuse=bad_input_response)
    app.add_middleware(SecurityMiddleware, names=app.state.cookies, keys=ctx.keys)
    # Browser apps: preflights answered before anything else; answers marked for their origin.
    app.add_middleware(CorsMiddleware, oidc=oidc)
    app.add_middleware(ObservabilityMiddleware)
    if settings.trusted_proxies:
        # Outermost: the client address and scheme are resolved before anything reads them.
        # X-Forwarded-For / -Proto are believed only when the direct peer is a trusted proxy;
        # the client is then the right-most address that is not itself a trusted proxy (the
        # left part is whatever the client sent). Links and origins never come from these
        # headers: they come from SESAME_ISSUER.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    # Outermost of all, when OTEL_EXPORTER_OTLP_ENDPOINT is set: a span per request.
    app.state.tracer_provider = tracing.install(app, ctx.db.engine)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings from the environment (and the log format,
    since each worker process sets up its own logging)."""
    settings = Settings()
    logs.configure(settings, os.environ.get("SESAME_LOG_LEVEL", "info"))
    return create_app(settings)
