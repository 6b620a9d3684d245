"""What the protocol functions need, built once per app by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.clock import Clock
from service.db.apis import ApiCache
from service.db.clients import ClientCache
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
    # Client rows for the token endpoint, each confirmed by what the grant writes.
    clients: ClientCache = field(default_factory=ClientCache)
    # API rows for the client credentials grant, confirmed by the grant's insert.
    apis: ApiCache = field(default_factory=ApiCache)
