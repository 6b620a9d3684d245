"""What the protocol functions need, built once per app by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from service.clock import Clock
from service.db.engine import Database
from service.keys.keyed import Keyring
from service.keys.signing import Signer
from service.settings import Settings
from service.store import EphemeralStore


@dataclass(frozen=True)
class OidcContext:
    settings: Settings
    db: Database
    store: EphemeralStore
    clock: Clock
    keys: Keyring
    signer: Signer
