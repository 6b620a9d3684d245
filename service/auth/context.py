"""What the auth functions need, built once per app by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from service.clock import Clock
from service.db.engine import Database
from service.keys.keyed import Keyring
from service.settings import Settings
from service.store import EphemeralStore


@dataclass(frozen=True)
class AuthContext:
    settings: Settings
    db: Database
    store: EphemeralStore
    clock: Clock
    keys: Keyring
