"""The deployer's accent colour, made readable: WCAG 2.2 contrast computed, never assumed.

The accent is used three ways: as a button's background (its text is black or white, whichever
contrasts more; one of them always reaches 4.5:1), and as the colour of links and disclosure
toggles on the card, light and dark. For the last two the accent is darkened (light mode) or
lightened (dark mode) in steps until it reaches 4.5:1 against the card (WCAG 2.2 SC 1.4.3, AA
for normal text). The result is a small stylesheet served by Sesame (``/branding/theme.css``):
the page's CSP allows no inline style.
"""

from __future__ import annotations

import re

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
AA = 4.5
LIGHT_CARD = "#ffffff"
DARK_CARD = "#1b1f26"  # the card colour of sesame.css in dark mode


def parse(colour: str) -> tuple[int, int, int]:
    if not HEX.match(colour):
        raise ValueError(f"{colour!r} is not a #rrggbb colour")
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def hex_of(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def luminance(colour: str) -> float:
    """Relative luminance (WCAG 2.2, definition of 'relative luminance')."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in parse(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """Contrast ratio (WCAG 2.2, definition of 'contrast ratio'), 1 to 21."""
    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def text_on(background: str) -> str:
    """Black or white text, whichever contrasts more with ``background`` (>= 4.58:1 always)."""
    black, white = "#111111", "#ffffff"
    return black if contrast(black, background) >= contrast(white, background) else white


def readable_on(colour: str, background: str, *, ratio: float = AA) -> str:
    """``colour`` moved toward black or white (the side away from ``background``) in small
    steps until it reaches ``ratio`` against ``background``."""
    target = (0, 0, 0) if luminance(background) > 0.5 else (255, 255, 255)
    rgb = parse(colour)
    for step in range(21):
        mixed = hex_of(tuple(c + (t - c) * step / 20 for c, t in zip(rgb, target, strict=True)))  # type: ignore[arg-type]
        if contrast(mixed, background) >= ratio:
            return mixed
    return hex_of(target)


def stylesheet(accent: str) -> str:
    """The accent's variables for light and dark mode (see ``sesame.css`` for their use)."""
    light = readable_on(accent, LIGHT_CARD)
    dark = readable_on(accent, DARK_CARD)
    return (
        f":root {{ --accent: {accent}; --accent-fg: {text_on(accent)}; --link: {light}; }}\n"
        "@media (prefers-color-scheme: dark) {\n"
        f"  :root {{ --link: {dark}; }}\n"
        "}\n"
    )
