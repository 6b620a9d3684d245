"""Pure rules: counters, redirects, names, normalization, keyed secrets, settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.auth.addresses import normalize_email
from service.auth.names import browser_label, default_passkey_name
from service.auth.verification import counter_regressed
from service.clock import FrozenClock
from service.http.deps import safe_next
from service.keys.keyed import Keyring
from service.settings import Settings


@pytest.mark.parametrize(
    ("stored", "new", "regressed"),
    [
        (0, 0, False),
        (0, 1, False),
        (5, 6, False),
        (5, 5, True),
        (5, 4, True),
        (5, 0, True),
        (0, 0, False),
    ],
)
def test_counter_rule(stored, new, regressed):
    assert counter_regressed(stored, new) is regressed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/account", "/account"),
        ("/account?x=1#y", "/account?x=1#y"),
        (None, "/account"),
        ("//evil.example", "/account"),
        ("/\\evil.example", "/account"),
        ("https://evil.example/", "/account"),
        ("javascript:alert(1)", "/account"),
        ("/ok\r\nSet-Cookie: x", "/account"),
        ("account", "/account"),
    ],
)
def test_safe_next_accepts_same_origin_paths_only(value, expected):
    assert safe_next(value) == expected


def test_email_normalization():
    assert normalize_email("  Ada@Example.COM ") == "ada@example.com"
    assert normalize_email("x@bücher.de") == "x@xn--bcher-kva.de"


def test_default_passkey_names():
    assert default_passkey_name("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "") == "iCloud Keychain"
    ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"
    assert browser_label(ua) == "Chrome on Linux"
    assert default_passkey_name("00000000-0000-0000-0000-000000000000", ua) == (
        "Passkey (Chrome on Linux)"
    )


def test_keyring_sign_unsign_and_csrf():
    keys = Keyring(b"k" * 32)
    signed = keys.sign("purpose", "value")
    assert keys.unsign("purpose", signed) == "value"
    assert keys.unsign("other", signed) is None
    assert keys.unsign("purpose", signed[:-1] + "x") is None
    assert keys.check_csrf("browser", keys.csrf_token("browser"))
    assert not keys.check_csrf("browser", keys.csrf_token("another"))
    assert not keys.check_csrf("browser", "")
    assert Keyring(b"j" * 32).hash("p", "v") != keys.hash("p", "v")


def test_frozen_clock_moves_only_when_told():
    clock = FrozenClock()
    start = clock.now()
    assert clock.now() == start
    clock.advance(5)
    assert (clock.now() - start).total_seconds() == 5


def test_settings_derive_rp_id_and_origins():
    settings = Settings(issuer="https://id.example.com/", secret_key="s" * 40)
    assert settings.issuer == "https://id.example.com"
    assert settings.rp_id == "id.example.com"
    assert settings.allowed_origins == ["https://id.example.com"]
    assert not settings.is_local_http


def test_settings_localhost_defaults(tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    assert settings.rp_id == "localhost" and settings.is_local_http
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'sesame.db'}"
    key = settings.ensure_secret_key()
    assert len(key) >= 32
    assert Settings(data_dir=tmp_path).ensure_secret_key() == key  # generated once, reused


@pytest.mark.parametrize("secret", ["", "changeme", "short"])
def test_production_refuses_placeholder_secrets(secret):
    with pytest.raises(ValidationError):
        Settings(env="production", issuer="https://id.example.com", secret_key=secret)


def test_production_refuses_http_issuer():
    with pytest.raises(ValidationError):
        Settings(env="production", issuer="http://id.example.com", secret_key="s" * 40)


def test_secret_key_file(tmp_path: Path):
    path = tmp_path / "key"
    path.write_text("f" * 40 + "\n")
    settings = Settings(env="production", issuer="https://id.example.com", secret_key_file=path)
    assert settings.secret_key == "f" * 40


def test_more_than_one_worker_needs_redis():
    with pytest.raises(ValidationError, match="SESAME_REDIS_URL"):
        Settings(workers=2)
    assert Settings(workers=2, redis_url="redis://127.0.0.1:6379/0").workers == 2
