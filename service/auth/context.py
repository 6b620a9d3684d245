"""What the auth functions need, built once per app by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.clock import Clock
from service.db.engine import Database
from service.email.sender import Mailer
from service.keys.keyed import Keyring
from service.keys.signing import Signer
from service.settings import Settings
from service.store import EphemeralStore
from service.tasks import Background


@dataclass(frozen=True)
class AuthContext:
    settings: Settings
    db: Database
    store: EphemeralStore
    clock: Clock
    keys: Keyring
    mailer: Mailer
    signer: Signer
    background: Background = field(default_factory=Background)
