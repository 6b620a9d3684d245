"""``dpop_jkt`` (RFC 9449 10): the thumbprint of the DPoP key the code will be bound to; the
token request must prove that key. Pushed with a DPoP proof (10.1), the request is bound to the
proof's key, and a ``dpop_jkt`` beside it must name the same one."""

from __future__ import annotations

from service.oidc.assurance.dpop import thumbprint_ok
from service.oidc.checks.base import Draft
from service.oidc.errors import InvalidDpopProof, InvalidRequest


async def check_dpop_jkt(draft: Draft) -> None:
    jkt = draft.params.get("dpop_jkt")
    if jkt is not None and not thumbprint_ok(jkt):
        raise InvalidRequest("dpop_jkt is not a base64url SHA-256 JWK thumbprint")
    if draft.proof_jkt is not None:
        if jkt is not None and jkt != draft.proof_jkt:
            raise InvalidDpopProof("dpop_jkt names another key than the DPoP proof's")
        jkt = draft.proof_jkt
    draft.found["dpop_jkt"] = jkt
