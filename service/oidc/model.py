"""The values the protocol passes around: who signed in, and what a client asked for."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Authentication:
    """What the hosted sign-in tells the protocol: the login route finishes a ceremony and hands
    this over (the protocol never looks at a passkey or a cookie)."""

    user_id: int
    subject: str  # the user's public id: the stable, non-reassigned ``sub`` (OIDC Core 2)
    auth_time: datetime
    amr: tuple[str, ...]
    sid: str

    def to_dict(self) -> dict[str, Any]:
        """For the ephemeral store (a code, a device decision): JSON-ready."""
        return {
            "user_id": self.user_id,
            "subject": self.subject,
            "auth_time": self.auth_time.timestamp(),
            "amr": list(self.amr),
            "sid": self.sid,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Authentication:
        return cls(
            user_id=data["user_id"],
            subject=data["subject"],
            auth_time=datetime.fromtimestamp(data["auth_time"], UTC),
            amr=tuple(data["amr"]),
            sid=data["sid"],
        )


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated authorization request (``authorize.validate_authorization_request``)."""

    client_id: str
    client_name: str
    first_party: bool
    id_token_alg: str
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    prompt: tuple[str, ...] = ()
    max_age: int | None = None
    login_hint: str | None = None
    ui_locales: str | None = None  # OIDC Core 3.1.2.1: the page's languages, in order
    hint_subject: str | None = None
    resource: str | None = None  # RFC 8707: the API's audience
    # RFC 7591 2: the app's logo and links, shown on the sign-in and consent pages.
    client_links: dict[str, str] = field(default_factory=dict)
    # The app admits only members of some groups (service.oidc.groups).
    group_restricted: bool = False
    # The access levels asked for (service.oidc.assurance.acr): a requirement.
    acr_values: tuple[str, ...] = ()
    # RFC 9449 10: the DPoP key the code is bound to.
    dpop_jkt: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuthorizationRequest:
        data = dict(data)
        data["scope"] = tuple(data["scope"])
        data["prompt"] = tuple(data["prompt"])
        data["acr_values"] = tuple(data.get("acr_values", ()))
        return cls(**data)
