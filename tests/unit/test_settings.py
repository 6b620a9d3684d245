"""Settings: derived values, development defaults, production refusals (``service.settings``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.settings import Settings


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


def test_the_issuer_follows_the_port_unless_set(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("SESAME_ISSUER", raising=False)
    monkeypatch.setenv("SESAME_PORT", "19003")
    settings = Settings(data_dir=tmp_path)
    assert settings.issuer == "http://localhost:19003"
    assert settings.allowed_origins == ["http://localhost:19003"]
    assert Settings(data_dir=tmp_path, issuer="http://localhost:8000").issuer.endswith(":8000")


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
