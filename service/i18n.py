"""Languages of the hosted pages and emails: Babel message catalogs (``service/locales``).

Messages are written in English in templates (``_("...")``) and in Python (marked ``N_``
where they are defined, translated where they are shown). The catalogs are the ``.po`` files
under ``service/locales/<locale>/LC_MESSAGES/messages.po``, compiled in memory at first use (no
binary ``.mo`` kept in the repository); ``scripts/i18n`` extracts and updates them with pybabel.

Which language a person sees (``negotiate``): the app's ``ui_locales`` on the authorization
request (OIDC Core 3.1.2.1), then the language they picked (a cookie), then the browser's
``Accept-Language``, then English.
"""

from __future__ import annotations

import functools
import gettext as gettext_module
import io
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError, dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from markupsafe import Markup, escape

LOCALE_DIR = Path(__file__).parent / "locales"
DEFAULT = "en"
# The languages Sesame speaks, each complete (tests/unit/test_catalogs.py holds them to it).
LOCALES = ("en", "de", "fr", "es", "pt_BR")
# What each language is called in the picker: in that language.
NATIVE_NAMES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "pt_BR": "Português (Brasil)",
}


# The language of the request being handled (set with the CSRF check of every hosted form and
# call, ``service.http.deps``): emails queued while handling it are written in it.
# It is decided only when something asks (most requests queue no email): the request's rule
# is kept, not its answer.
_current: ContextVar[Callable[[], str] | str] = ContextVar("sesame_locale", default=DEFAULT)


def use_locale(decide: Callable[[], str]) -> None:
    _current.set(decide)


def current_locale() -> str:
    found = _current.get()
    if callable(found):
        found = found()
        found = found if found in LOCALES else DEFAULT
        _current.set(found)
    return found


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where shown."""
    return message


@functools.cache
def translations(locale: str) -> gettext_module.NullTranslations:
    if locale == DEFAULT or locale not in LOCALES:
        return gettext_module.NullTranslations()
    with open(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def translate(locale: str, message: str, **args: Any) -> str:
    """``message`` in ``locale``, its ``%(name)s`` placeholders filled (plain text)."""
    text = translations(locale).gettext(message)
    return text % args if args else text


def html_gettext(locale: str) -> Callable[..., Markup]:
    """``_`` for HTML templates: the translation is escaped, then the arguments (escaped
    unless already markup) are filled in."""

    def _(message: str, **args: Any) -> Markup:
        text = escape(translations(locale).gettext(message))
        return text % args if args else text

    return _


def text_gettext(locale: str) -> Callable[..., str]:
    """``_`` for plain-text templates (emails)."""

    def _(message: str, **args: Any) -> str:
        return translate(locale, message, **args)

    return _


def _supported(tag: str) -> str | None:
    """The locale Sesame has for a language tag (``de-AT`` -> ``de``, ``pt-BR`` -> ``pt_BR``)."""
    try:
        wanted = Locale.parse(tag.strip().replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    exact = f"{wanted.language}_{wanted.territory}" if wanted.territory else wanted.language
    if exact in LOCALES:
        return exact
    if wanted.language in LOCALES:
        return wanted.language
    # Portuguese without a region: the Brazilian catalog is the one there is.
    return next((code for code in LOCALES if code.split("_")[0] == wanted.language), None)


def _accept_language(header: str) -> list[str]:
    """RFC 9110 12.5.4: the tags by quality, highest first (q=0 excluded)."""
    ranked = []
    for index, item in enumerate(header.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(
    ui_locales: str | None = None, chosen: str | None = None, accept_language: str | None = None
) -> str:
    """The locale to use: ``ui_locales`` (space-separated, in order of preference), then the
    picked language, then ``Accept-Language``, then English."""
    for tag in (ui_locales or "").split()[:10]:
        found = _supported(tag)
        if found:
            return found
    if chosen in LOCALES:
        return chosen
    for tag in _accept_language((accept_language or "")[:500]):
        found = _supported(tag)
        if found:
            return found
    return DEFAULT


def html_lang(locale: str) -> str:
    """The ``lang`` attribute (BCP 47: ``pt-BR``)."""
    return locale.replace("_", "-")


def direction(locale: str) -> str:
    return "rtl" if Locale.parse(locale).character_order == "right-to-left" else "ltr"


def when(locale: str, moment: datetime) -> str:
    """A date and time as people of ``locale`` write it (UTC, said so)."""
    return dates.format_datetime(moment, "medium", tzinfo=UTC, locale=locale) + " UTC"


def ago(locale: str, moment: datetime, now: datetime) -> str:
    """How long ago, in words of ``locale`` ("3 hours ago", "vor 3 Stunden")."""
    return dates.format_timedelta(
        moment - now, granularity="minute", add_direction=True, locale=locale
    )
