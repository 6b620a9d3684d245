"""The deployer's brand on every hosted page: name, logo, accent colour, help and legal links.

Settings (``SESAME_RP_NAME``, ``SESAME_BRAND_LOGO``, ``SESAME_BRAND_ACCENT``,
``SESAME_SUPPORT_URL``, ``SESAME_PRIVACY_URL``, ``SESAME_TERMS_URL``) are read once at start.
The logo is always served by Sesame (``/branding/logo``), whether it was given as a file or as a
URL fetched once at start, so the pages' CSP keeps ``img-src 'self'`` and a person's browser
never calls a third party. A logo that cannot be read is logged and the name shown instead: a
brand problem never stops sign-in.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from service.http.theme import stylesheet
from service.i18n import N_
from service.settings import Settings
from service.text import split_url

log = logging.getLogger("sesame.branding")
router = APIRouter(include_in_schema=False)

MAX_LOGO_BYTES = 512 * 1024
LOGO_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
# An SVG logo opened on its own must not run anything.
LOGO_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@dataclass(frozen=True)
class Brand:
    name: str
    css: str
    logo: bytes | None = None
    logo_type: str = ""
    # (label, url) shown under every page, in this order.
    links: list[tuple[str, str]] = field(default_factory=list)

    @property
    def version(self) -> str:
        """Part of the stylesheet and logo URLs, so a changed brand is fetched anew."""
        digest = hashlib.sha256(self.css.encode() + (self.logo or b""))
        return digest.hexdigest()[:12]


def load_brand(settings: Settings) -> Brand:
    logo, logo_type = _load_logo(settings.brand_logo) if settings.brand_logo else (None, "")
    links = [
        (label, url)
        for label, url in (
            (N_("Help"), settings.support_url),
            (N_("Privacy"), settings.privacy_url),
            (N_("Terms"), settings.terms_url),
        )
        if url
    ]
    return Brand(settings.rp_name, stylesheet(settings.brand_accent), logo, logo_type, links)


def _load_logo(source: str) -> tuple[bytes | None, str]:
    parts = split_url(source)
    try:
        if parts is not None and parts.scheme in {"http", "https"}:
            return _fetch_logo(source)  # raises ValueError for every failure
        path = Path(source)
        media_type = LOGO_TYPES.get(path.suffix.lower())
        if media_type is None:
            raise ValueError(f"a logo file must be one of {', '.join(LOGO_TYPES)}")
        data = path.read_bytes()
        if len(data) > MAX_LOGO_BYTES:
            raise ValueError(f"the logo is larger than {MAX_LOGO_BYTES // 1024} KiB")
        return data, media_type
    except (OSError, ValueError) as exc:
        log.warning(
            "SESAME_BRAND_LOGO %s cannot be used (%s): showing the name instead", source, exc
        )
        return None, ""


def _fetch_logo(url: str) -> tuple[bytes, str]:
    # Imported here: a server with a logo file (or none) never loads an HTTP client.
    import httpx

    try:
        return _download(httpx, url)
    except httpx.HTTPError as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}") from exc


def _download(httpx: Any, url: str) -> tuple[bytes, str]:
    with (
        httpx.Client(timeout=5.0, follow_redirects=False) as client,
        client.stream("GET", url) as response,
    ):
        response.raise_for_status()
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if media_type not in LOGO_TYPES.values():
            raise ValueError(f"the logo's content type {media_type!r} is not an image type")
        data = b""
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > MAX_LOGO_BYTES:
                raise ValueError(f"the logo is larger than {MAX_LOGO_BYTES // 1024} KiB")
    return data, media_type


def _brand(request: Request) -> Brand:
    brand: Brand = request.app.state.brand
    return brand


@router.get("/branding/theme.css")
async def theme_css(request: Request) -> Response:
    return Response(
        _brand(request).css,
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/branding/logo")
async def logo(request: Request) -> Response:
    brand = _brand(request)
    if brand.logo is None:
        return Response(status_code=404)
    return Response(
        brand.logo,
        media_type=brand.logo_type,
        headers={"Cache-Control": "public, max-age=86400", "Content-Security-Policy": LOGO_CSP},
    )
