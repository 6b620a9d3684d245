"""Messages, rendered from templates (plain text and HTML) in ``service/email/templates``.

Links are built from the configured issuer, never from request headers (a forged ``Host`` or
``X-Forwarded-Host`` cannot send people a link to someone else's site).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from service.settings import Settings

_env = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Message:
    kind: str
    recipient: str
    subject: str
    text: str
    html: str
    expires_at: datetime | None = None  # a message whose link has expired is not sent


def _render(settings: Settings, template: str, subject: str, **values: Any) -> tuple[str, str]:
    values = {"rp_name": settings.rp_name, "issuer": settings.issuer, "subject": subject, **values}
    return (
        _env.get_template(f"{template}.txt").render(**values),
        _env.get_template(f"{template}.html").render(**values),
    )


def link_message(
    settings: Settings,
    *,
    kind: str,
    recipient: str,
    name: str,
    path: str,
    template: str | None = None,
    code: str,
    expires_at: datetime,
    minutes: int,
    address: str = "",
) -> Message:
    """A message carrying a single-use link and its code (sign-in, email confirmation)."""
    link = f"{settings.issuer}{path}"
    subjects = {
        "signin_link": f"Your {settings.rp_name} sign-in link",
        "verify_email": f"Confirm your email address for {settings.rp_name}",
        "confirm_new_email": f"Confirm your new email address for {settings.rp_name}",
    }
    subject = subjects[kind]
    text, html = _render(
        settings,
        template or kind,
        subject,
        name=name,
        link=link,
        code=code,
        minutes=minutes,
        address=address or recipient,
    )
    return Message(kind, recipient, subject, text, html, expires_at)


def notice(
    settings: Settings, *, kind: str, recipient: str, name: str, headline: str, detail: str
) -> Message:
    """A security notice: something changed on the account."""
    subject = f"{settings.rp_name}: {headline}"
    text, html = _render(settings, "notice", subject, name=name, headline=headline, detail=detail)
    return Message(kind, recipient, subject, text, html)
