"""The authorization request as the checks build it up (OIDC Core 3.1.2.1, RFC 6749 4.1.1).

Each check reads ``params``, refuses with an ``OAuthError`` or records what it validated on the
draft; the last step turns the draft into an ``AuthorizationRequest``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from service.db.models import OAuthClient
from service.oidc.client_links import load_links
from service.oidc.context import OidcContext
from service.oidc.errors import InvalidRequest
from service.oidc.model import AuthorizationRequest

MAX_STATE = 2048


@dataclass
class Draft:
    """``found`` holds what later checks validated, named as ``AuthorizationRequest``'s fields."""

    ctx: OidcContext
    params: dict[str, str]
    repeated: set[str]
    client: OAuthClient | None = None
    redirect_uri: str | None = None
    found: dict[str, Any] = field(default_factory=dict)
    # Came through /par (RFC 9126), checked with the client authenticated.
    pushed: bool = False
    # Pushed with a DPoP proof (RFC 9449 10.1): the thumbprint of its key.
    proof_jkt: str | None = None

    @property
    def checked_client(self) -> OAuthClient:
        assert self.client is not None, "the client check runs first"
        return self.client

    def redirect_state(self) -> str | None:
        """The ``state`` an error redirect carries back: only a single, not overlong value."""
        state = self.params.get("state") if "state" not in self.repeated else None
        return state if state and len(state) <= MAX_STATE else None

    def limited(self, name: str, limit: int) -> None:
        """Keep an optional parameter as it came, refusing one over ``limit`` characters."""
        value = self.params.get(name)
        if value is not None and len(value) > limit:
            raise InvalidRequest(f"{name} is longer than {limit} characters")
        self.found[name] = value

    def request(self) -> AuthorizationRequest:
        client = self.checked_client
        assert self.redirect_uri is not None
        return AuthorizationRequest(
            client_id=client.client_id,
            client_name=client.name,
            first_party=client.first_party,
            id_token_alg=client.id_token_alg,
            redirect_uri=self.redirect_uri,
            client_links=load_links(client.links),
            group_restricted=client.group_restricted,
            **self.found,
        )


Check = Callable[[Draft], Awaitable[None]]
