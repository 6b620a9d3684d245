"""``create_app(settings)``: the FastAPI application with its routers, handlers and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from service.auth.context import AuthContext
from service.auth.keyed import Keyring
from service.clock import Clock, SystemClock
from service.db.engine import Database
from service.http import ceremonies, pages
from service.http.cookies import CookieNames
from service.http.errors import install_error_handlers
from service.http.middleware import SecurityMiddleware
from service.http.render import WEB_DIR
from service.settings import Settings
from service.store import open_store


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    ctx = AuthContext(
        settings=settings,
        db=Database(settings.database_url),
        store=open_store(settings.redis_url, settings.redis_prefix),
        clock=clock or SystemClock(),
        keys=Keyring(settings.ensure_secret_key()),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await ctx.store.close()
        await ctx.db.dispose()

    app = FastAPI(
        title="Sesame",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.ctx = ctx
    app.state.cookies = CookieNames(settings)
    install_error_handlers(app)
    app.include_router(pages.router)
    app.include_router(ceremonies.router)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    app.add_middleware(SecurityMiddleware, names=app.state.cookies)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings from the environment."""
    return create_app(Settings())
