"""Which language a person gets (OIDC Core 3.1.2.1 ui_locales, a picked language, RFC 9110
Accept-Language), and dates written their way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.i18n import ago, direction, html_lang, negotiate, when


@pytest.mark.parametrize(
    ("ui_locales", "chosen", "accept", "expected"),
    [
        (None, None, None, "en"),
        (None, None, "de-DE,de;q=0.9,en;q=0.8", "de"),
        (None, None, "da, en-GB;q=0.8, fr;q=0.9", "fr"),  # by quality, not order
        (None, None, "pt-BR", "pt_BR"),
        (None, None, "pt-PT", "pt_BR"),  # the Portuguese there is
        (None, None, "es-419;q=0.5, ja", "es"),
        (None, None, "de;q=0, fr;q=0.1", "fr"),  # q=0 means not acceptable
        (None, None, "*, garbage;;q=x, ", "en"),
        (None, "es", "de", "es"),  # the picker beats the browser
        (None, "xx", "de", "de"),  # an unknown picked value is ignored
        ("fr-CA de", "es", "de", "fr"),  # the app's ui_locales beat both
        ("tlh ja", "es", "de", "es"),  # none spoken: fall through
    ],
)
def test_negotiation(ui_locales, chosen, accept, expected):
    assert negotiate(ui_locales, chosen, accept) == expected


def test_lang_dir_and_dates():
    assert html_lang("pt_BR") == "pt-BR" and direction("de") == "ltr"
    moment = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)
    assert when("de", moment) == "03.12.2026, 14:05:00 UTC"
    assert when("en", moment).startswith("Dec 3, 2026")
    assert ago("de", moment - timedelta(hours=3), moment) == "vor 3 Stunden"
    assert ago("fr", moment - timedelta(minutes=5), moment) == "il y a 5 minutes"
