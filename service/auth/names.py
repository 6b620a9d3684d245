"""Default names for new passkeys: the provider from the AAGUID where known, else the browser."""

from __future__ import annotations

import re

from service.auth.providers import provider

_BROWSERS = [
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
]
_SYSTEMS = [
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Mac OS X", "macOS"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
]


def browser_label(user_agent: str) -> str:
    browser = next((name for token, name in _BROWSERS if token in user_agent), "Browser")
    system = next((name for token, name in _SYSTEMS if token in user_agent), "")
    return f"{browser} on {system}" if system else browser


def default_passkey_name(aaguid: str, user_agent: str) -> str:
    """The provider's name where the AAGUID is known (``service.auth.providers``), else
    the browser and system that created it."""
    known = provider(aaguid)
    return known.name if known else f"Passkey ({browser_label(user_agent)})"


def clean_name(value: str, limit: int = 64) -> str:
    return re.sub(r"\s+", " ", value).strip()[:limit]
