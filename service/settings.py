"""Configuration from the environment (prefix ``SESAME_``).

Every value has a development default so that ``sesame serve`` works on a laptop with nothing
set; ``SESAME_ENV=production`` turns those defaults into errors where they would be unsafe.
A secret can be given directly (``SESAME_SECRET_KEY``) or as a file (``SESAME_SECRET_KEY_FILE``).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev", "development"}


def _origin(value: str) -> str:
    """A bare web origin (scheme, host, port; https outside localhost), lowercased."""
    parts = urlsplit(value.strip().lower())
    local = parts.hostname in {"localhost", "127.0.0.1"}
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValueError(f"SESAME_RELATED_ORIGINS: {value!r} must be an https origin")
    if not parts.hostname or parts.path not in {"", "/"} or parts.query or parts.username:
        raise ValueError(
            f"SESAME_RELATED_ORIGINS: {value!r} must be an origin, like https://example.com"
        )
    return f"{parts.scheme}://{parts.netloc}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SESAME_", extra="ignore")

    env: Literal["development", "production"] = "development"
    # Unset: http://localhost:<port>, so that a development server on another port is its own
    # issuer (links, the RP ID and the allowed origin follow).
    issuer: str = ""
    rp_id: str = ""
    rp_name: str = "Sesame"
    # Branding of the hosted pages and emails (service.http.branding): a logo file or URL
    # (served by Sesame either way), the accent colour (text colours follow, WCAG AA), and
    # where people find help and the legal terms (shown under every page).
    brand_logo: str = ""
    brand_accent: str = "#2f5bd3"
    support_url: str = ""
    privacy_url: str = ""
    terms_url: str = ""
    allowed_origins: list[str] = Field(default_factory=list)
    # WebAuthn L3 5.11 related origin requests: other sites (a company's other domains) whose
    # pages may use this RP ID's passkeys. Published at /.well-known/webauthn and accepted in
    # ceremonies like the issuer's own origin.
    related_origins: list[str] = Field(default_factory=list)

    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str | None = None
    redis_prefix: str = "sesame:"

    secret_key: str = ""
    secret_key_file: Path | None = None

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1

    session_idle_seconds: int = 7 * 24 * 3600
    session_max_seconds: int = 30 * 24 * 3600
    session_touch_seconds: int = 300
    ceremony_timeout_seconds: int = 300
    last_user_cookie_days: int = 400

    # OpenID Connect provider
    admin_token: str = ""
    admin_token_file: Path | None = None
    code_seconds: int = Field(default=60, ge=1, le=60)
    access_token_seconds: int = Field(default=600, ge=30, le=3600)
    id_token_seconds: int = Field(default=600, ge=30, le=3600)
    refresh_idle_seconds: int = 14 * 24 * 3600
    # A browser app's (public client with allowed origins) refresh token lapses sooner unused.
    browser_refresh_idle_seconds: int = Field(default=24 * 3600, ge=60)
    refresh_max_seconds: int = 30 * 24 * 3600
    interaction_seconds: int = 900
    # Device authorization grant (RFC 8628): how long a device and user code pair lives, the
    # polling interval the device is told, and wrong user codes a browser may type per window.
    device_code_seconds: int = Field(default=600, ge=60, le=3600)
    device_poll_seconds: int = Field(default=5, ge=1, le=60)
    device_code_attempts: int = Field(default=5, ge=1)
    # Device authorization requests per minute from one address (a public client only names
    # itself, so this is what keeps the store from filling with unused codes).
    device_requests_per_ip: int = Field(default=30, ge=1)
    signing_key_cache_seconds: int = Field(default=60, ge=0, le=3600)

    # Email: with no SMTP host, messages are written to the log (embedded default).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_password_file: Path | None = None
    smtp_ca_file: Path | None = None
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Sesame <no-reply@localhost>"
    mail_poll_seconds: float = 2.0
    email_link_seconds: int = Field(default=600, ge=60, le=3600)
    email_code_attempts: int = Field(default=5, ge=1, le=10)
    email_rate_window_seconds: int = 900
    email_rate_per_address: int = 5
    email_rate_per_ip: int = 20
    step_up_seconds: int = 900
    # Passkey ceremonies begun (sign-in and sign-up) per client address per minute: a whole
    # office behind one NAT address fits; a flood of begins (each a stored challenge) does not.
    ceremony_rate_per_ip: int = Field(default=600, ge=1)
    # Passkey sign-ins begun for one named account per minute (a username typed in the form;
    # a usernameless sign-in names none): guessing at one person's account is slowed down.
    ceremony_rate_per_account: int = Field(default=60, ge=1)
    # Failed client authentications at the back channel per client address and client id a
    # minute, and failed admin tokens per client address a minute (then 429).
    client_auth_failures_per_ip: int = Field(default=30, ge=1)
    admin_failures_per_ip: int = Field(default=10, ge=1)
    # "Delete my account" on the account page (GDPR art. 17); operators keep
    # ``sesame users delete`` either way.
    account_deletion: bool = True
    # Who may create an account: anyone (open), only people invited by an administrator
    # (invite), or nobody new (closed). Invitation links last ``invitation_days``.
    signup: Literal["open", "invite", "closed"] = "open"
    # RFC 9126 6: every client's authorization requests must come through /par.
    require_par: bool = False
    # RFC 9449 8: DPoP proofs at /token and /par must carry a nonce Sesame sent.
    dpop_nonce: bool = True
    invitation_days: int = Field(default=7, ge=1, le=90)

    # Operations
    trusted_proxies: list[str] = Field(default_factory=list)
    metrics_token: str = ""
    log_format: Literal["json", "text", ""] = ""
    audit_retention_days: int = Field(default=365, ge=1)
    # Housekeeping (service.lifecycle.sweep): how often a replica sweeps what can no longer be
    # used (0: never in the background; ``sesame prune`` still does), rows per statement, and
    # the pause after each batch, in multiples of the time the batch took.
    sweep_seconds: int = Field(default=900, ge=0)
    sweep_batch: int = Field(default=1000, ge=1, le=100_000)
    sweep_pause_ratio: float = Field(default=9.0, ge=0, le=100)
    # On SIGTERM: /readyz answers 503 at once, the listener closes, and requests in flight get
    # this long to finish before the process exits.
    shutdown_grace_seconds: int = Field(default=20, ge=1, le=600)

    # Passkey API: requests per minute
    api_rate_per_key: int = 600
    api_rate_per_tenant: int = 1200

    @model_validator(mode="after")
    def _derive(self) -> Settings:
        if not self.issuer:
            self.issuer = f"http://localhost:{self.port}"
        parts = urlsplit(self.issuer)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("SESAME_ISSUER must be an absolute http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError("SESAME_ISSUER must not have a query or fragment")
        self.issuer = self.issuer.rstrip("/")
        if not self.rp_id:
            self.rp_id = parts.hostname
        if not self.allowed_origins:
            self.allowed_origins = [self.origin]
        self.related_origins = list(dict.fromkeys(_origin(v) for v in self.related_origins))
        self.allowed_origins = list(dict.fromkeys([*self.allowed_origins, *self.related_origins]))
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'sesame.db'}"
        if self.secret_key_file and not self.secret_key:
            self.secret_key = self.secret_key_file.read_text().strip()
        if self.smtp_password_file and not self.smtp_password:
            self.smtp_password = self.smtp_password_file.read_text().strip()
        if self.admin_token_file and not self.admin_token:
            self.admin_token = self.admin_token_file.read_text().strip()
        self._check_brand()
        if not self.log_format:
            self.log_format = "json" if self.env == "production" else "text"
        # Canonical networks (raises ValueError on a bad entry): "10.0.0.1" is 10.0.0.1/32.
        self.trusted_proxies = [
            str(ipaddress.ip_network(proxy, strict=False)) for proxy in self.trusted_proxies
        ]
        if self.env == "production":
            self._check_production()
        if self.workers > 1 and not self.redis_url:
            raise ValueError(
                "SESAME_WORKERS > 1 needs SESAME_REDIS_URL: the in-process store is valid for "
                "one process only"
            )
        return self

    def _check_brand(self) -> None:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", self.brand_accent):
            raise ValueError("SESAME_BRAND_ACCENT must be a colour written #rrggbb")
        for name in ("support_url", "privacy_url", "terms_url"):
            value = getattr(self, name)
            parts = urlsplit(value)
            if value and (
                parts.scheme not in {"http", "https", "mailto"}
                or (not parts.path and not parts.netloc)
            ):
                raise ValueError(f"SESAME_{name.upper()} must be an http(s) or mailto: URL")

    def _check_production(self) -> None:
        if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
            raise ValueError(
                "production needs SESAME_SECRET_KEY (or _FILE) of at least 32 random characters"
            )
        if not self.issuer.startswith("https://"):
            raise ValueError("production needs an https:// SESAME_ISSUER")
        if self.admin_token and len(self.admin_token) < 32:
            raise ValueError("SESAME_ADMIN_TOKEN must be at least 32 characters (or unset)")

    @property
    def origin(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def is_local_http(self) -> bool:
        """Plain http on localhost: the one place cookies may go without ``Secure``."""
        parts = urlsplit(self.issuer)
        return parts.scheme == "http" and parts.hostname in {"localhost", "127.0.0.1", "::1"}

    @property
    def max_token_seconds(self) -> int:
        """The longest a signed token lives: how long a retired key stays in JWKS."""
        return max(self.access_token_seconds, self.id_token_seconds)

    @property
    def code_tombstone_seconds(self) -> int:
        """How long a redeemed code's tombstone is kept (``service.oidc.codes``): past the code
        and the tokens it may have issued, so that a late replay is still recognised."""
        return max(self.code_seconds, self.access_token_seconds)

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def ensure_secret_key(self) -> bytes:
        """The server key; in development it is generated once into the data directory."""
        if self.secret_key:
            return self.secret_key.encode()
        if self.env == "production":
            raise ValueError("production needs SESAME_SECRET_KEY")
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        self.secret_key = path.read_text().strip()
        return self.secret_key.encode()
