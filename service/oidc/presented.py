"""What a back-channel request carries besides its form, read once by the HTTP layer: the
``Authorization`` header (RFC 6749 2.3.1), every ``DPoP`` header (RFC 9449 4.1: a request
with more than one is refused) and the path it was sent to, from which the endpoint's public
URL is made (the ``htu`` of a DPoP proof)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Presented:
    authorization: str | None = None
    dpop: tuple[str, ...] = ()
    path: str = ""

    def endpoint(self, issuer: str) -> str:
        """The URL the request was meant for: the issuer's own (behind a proxy the request's
        host may be another), the path Sesame served."""
        return issuer + self.path
