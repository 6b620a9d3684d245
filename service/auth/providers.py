"""Who keeps a passkey, from its AAGUID (WebAuthn L3 6.5.1, the authenticator's model id):
the community-maintained passkey provider list, vendored in ``service/auth/data`` (see
``PASSKEY_AAGUIDS.md`` there; ``scripts/refresh-aaguids`` updates it). Used to name new
passkeys and to show each passkey's provider and icon on the account page, nothing else: an
AAGUID is what the authenticator says, not a proof."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data" / "passkey_aaguids.json"
NO_AAGUID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Provider:
    name: str
    icon_light: str = ""  # data: URLs, shown as images (the pages' CSP allows img data:)
    icon_dark: str = ""


@functools.cache
def _providers() -> dict[str, Provider]:
    raw = json.loads(DATA.read_text())
    return {
        aaguid.lower(): Provider(
            str(entry["name"]),
            _image(entry.get("icon_light")),
            _image(entry.get("icon_dark")),
        )
        for aaguid, entry in raw.items()
    }


def _image(value: object) -> str:
    """Only data: image URLs are kept (never a remote address the page would load)."""
    return value if isinstance(value, str) and value.startswith("data:image/") else ""


def provider(aaguid: str) -> Provider | None:
    if not aaguid or aaguid == NO_AAGUID:
        return None
    return _providers().get(aaguid.lower())
