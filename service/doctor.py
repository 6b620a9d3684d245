"""``sesame doctor``: check the configuration and everything Sesame depends on, and say plainly
what is wrong. Each check answers ok, warn or fail; any fail makes the command exit 1."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import aiosmtplib

from service.auth.context import AuthContext
from service.db.schema_version import is_current
from service.email.sender import SmtpTransport
from service.oidc.context import OidcContext
from service.settings import PLACEHOLDER_SECRETS, Settings

Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Finding:
    check: str
    level: Level
    detail: str


def configuration(settings: Settings) -> list[Finding]:
    found: list[Finding] = []
    prod = settings.env == "production"

    def add(check: str, bad: bool, detail_bad: str, detail_ok: str, level: Level) -> None:
        found.append(Finding(check, level if bad else "ok", detail_bad if bad else detail_ok))

    add(
        "issuer",
        not settings.issuer.startswith("https://"),
        f"{settings.issuer} is not https (fine on a laptop, never in production)",
        settings.issuer,
        "fail" if prod else "warn",
    )
    key = settings.secret_key
    add(
        "secret key",
        bool(key) and (len(key) < 32 or key.lower() in PLACEHOLDER_SECRETS),
        "SESAME_SECRET_KEY is short or a placeholder",
        "set" if key else "generated in the data directory (development)",
        "fail",
    )
    add(
        "smtp",
        not settings.smtp_host,
        "no SESAME_SMTP_HOST: mail is only logged"
        + (" (bodies withheld in production: nobody gets links)" if prod else ""),
        f"{settings.smtp_host}:{settings.smtp_port} ({settings.smtp_security})",
        "fail" if prod else "warn",
    )
    add(
        "redis",
        not settings.redis_url,
        "no SESAME_REDIS_URL: the in-process store allows a single process and replica",
        "configured",
        "warn" if prod else "ok",
    )
    add(
        "database",
        settings.uses_sqlite and prod,
        "SQLite in production: one replica only; use PostgreSQL to scale out",
        settings.database_url.split("://")[0],
        "warn",
    )
    add(
        "admin api",
        not settings.admin_token,
        "no SESAME_ADMIN_TOKEN: the admin API is off (the CLI still works)",
        "enabled",
        "warn",
    )
    return found


async def _probe(check: str, probe: Callable[[], Awaitable[str]]) -> Finding:
    try:
        return Finding(check, "ok", await probe())
    except Exception as exc:  # a doctor reports every failure instead of stopping at one
        return Finding(check, "fail", f"{exc.__class__.__name__}: {exc}"[:300])


async def services(ctx: AuthContext, oidc: OidcContext) -> list[Finding]:
    settings = ctx.settings

    async def database() -> str:
        await ctx.db.ping()
        return "reachable"

    async def migrations() -> str:
        if not await is_current(ctx.db.engine):
            raise RuntimeError("the schema is behind the code: run `sesame migrate`")
        return "current"

    async def store() -> str:
        await ctx.store.ping()
        return "reachable" if settings.redis_url else "in-process"

    async def keys() -> str:
        published = (await oidc.signer.jwks())["keys"]
        algs = sorted({k["alg"] for k in published})
        return f"{len(published)} published ({', '.join(algs)})"

    async def smtp() -> str:
        transport = SmtpTransport(settings)
        assert settings.smtp_host is not None
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            tls_context=transport.tls_context,
            timeout=settings.smtp_timeout_seconds,
        )
        await client.connect()
        try:
            if settings.smtp_username and settings.smtp_password:
                await client.login(settings.smtp_username, settings.smtp_password)
        finally:
            await client.quit()
        return "accepted the connection" + (" and login" if settings.smtp_username else "")

    found = [
        await _probe("database connection", database),
        await _probe("migrations", migrations),
        await _probe("store", store),
    ]
    if found[1].level == "ok":
        found.append(await _probe("signing keys", keys))
    if settings.smtp_host:
        found.append(await _probe("smtp connection", smtp))
    return found
