"""Every message of the pages, emails and errors is translated in every language Sesame
speaks: extracted from the code as ``scripts/i18n`` does, compared with each catalog."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from service.i18n import LOCALE_DIR, LOCALES, translate

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)s")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    out = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel), "extract", "--mapping", "babel.cfg", "--keywords", "N_",
         "--no-location", "--omit-header", "--output-file", str(out), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with open(out, "rb") as handle:
        catalog = read_po(handle)
    return {str(m.id): set(PLACEHOLDER.findall(str(m.id))) for m in catalog if m.id}


def test_extraction_finds_the_pages_emails_and_errors(extracted):
    # One from each kind of source, so an extraction that silently finds nothing fails.
    for message in (
        "Sign in with a passkey",  # page template
        "Hello %(name)s,",  # email template
        "This passkey is not registered here. Try another passkey or sign up.",  # AuthError
        "Passkey renamed.",  # notice in Python
        "your email address",  # scope words
    ):
        assert message in extracted
    assert len(extracted) > 150


@pytest.mark.parametrize("locale", [code for code in LOCALES if code != "en"])
def test_every_message_is_translated(extracted, locale):
    with open(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=locale)
    found = {str(m.id): m for m in catalog if m.id}
    missing = sorted(set(extracted) - set(found))
    assert missing == [], f"{locale}: run scripts/i18n and translate: {missing}"
    untranslated = sorted(k for k in extracted if not found[k].string or found[k].fuzzy)
    assert untranslated == [], f"{locale}: untranslated or fuzzy: {untranslated}"
    wrong = sorted(
        k for k, names in extracted.items() if set(PLACEHOLDER.findall(found[k].string)) != names
    )
    assert wrong == [], f"{locale}: placeholders differ: {wrong}"
    stale = sorted(set(found) - set(extracted))
    assert stale == [], f"{locale}: no longer used (run scripts/i18n): {stale}"


def test_translations_are_used_with_their_values():
    assert translate("de", "Sign in") == "Anmelden"
    assert translate("fr", "Hello %(name)s,", name="Ada") == "Bonjour Ada,"
    assert translate("en", "Hello %(name)s,", name="Ada") == "Hello Ada,"
    assert translate("xx", "Sign in") == "Sign in"
