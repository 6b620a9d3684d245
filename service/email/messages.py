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

from service.i18n import (
    N_,
    current_locale,
    html_gettext,
    html_lang,
    text_gettext,
    translate,
    when,
)
from service.settings import Settings

_env = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    keep_trailing_newline=True,
)


SUBJECTS = {
    "signin_link": N_("Your %(product)s sign-in link"),
    "verify_email": N_("Confirm your email address for %(product)s"),
    "confirm_new_email": N_("Confirm your new email address for %(product)s"),
    "invitation": N_("You are invited to %(product)s"),
}


@dataclass(frozen=True)
class Message:
    kind: str
    recipient: str
    subject: str
    text: str
    html: str
    expires_at: datetime | None = None  # a message whose link has expired is not sent


def _render(
    settings: Settings, template: str, subject: str, locale: str, **values: Any
) -> tuple[str, str]:
    values = {
        "rp_name": settings.rp_name,
        "issuer": settings.issuer,
        "subject": subject,
        "lang": html_lang(locale),
        **values,
    }
    return (
        _env.get_template(f"{template}.txt").render(_=text_gettext(locale), **values),
        _env.get_template(f"{template}.html").render(_=html_gettext(locale), **values),
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
    """A message carrying a single-use link and its code (sign-in, email confirmation), in the
    language of the request that asked for it."""
    locale = current_locale()
    link = f"{settings.issuer}{path}"
    subject = translate(locale, SUBJECTS[kind], product=settings.rp_name)
    text, html = _render(
        settings,
        template or kind,
        subject,
        locale,
        name=name,
        link=link,
        code=code,
        minutes=minutes,
        address=address or recipient,
    )
    return Message(kind, recipient, subject, text, html, expires_at)


def notice(
    settings: Settings,
    *,
    kind: str,
    recipient: str,
    name: str,
    headline: str,
    detail: str,
    at: datetime,
    values: dict[str, Any] | None = None,
) -> Message:
    """A security notice: something changed on the account. ``headline`` and ``detail`` are
    English message ids (``service.i18n``) taking ``values``; written in the language of the
    request that caused the change."""
    locale = current_locale()
    headline = translate(locale, headline, **(values or {}))
    detail = f"{translate(locale, detail, **(values or {}))} ({when(locale, at)})"
    subject = f"{settings.rp_name}: {headline}"
    text, html = _render(
        settings, "notice", subject, locale, name=name, headline=headline, detail=detail
    )
    return Message(kind, recipient, subject, text, html)


def invitation_message(
    settings: Settings, *, recipient: str, inviter: str, path: str, expires_at: datetime
) -> Message:
    """An administrator's invitation: a single-use link that creates the account."""
    locale = current_locale()
    subject = translate(locale, SUBJECTS["invitation"], product=settings.rp_name)
    text, html = _render(
        settings,
        "invitation",
        subject,
        locale,
        inviter=inviter,
        link=f"{settings.issuer}{path}",
        days=settings.invitation_days,
    )
    return Message("invitation", recipient, subject, text, html, expires_at)
