"""Access level asked for (OIDC Core 3.1.2.1 ``acr_values``; 5.5 the ``claims`` parameter, of
which Sesame acts on ``acr`` and accepts the rest as voluntary, 5.5.1): the known values are kept
as ``acr_values`` and become a requirement (``service.oidc.assurance.acr``)."""

from __future__ import annotations

import json
from typing import Any

from service.oidc.assurance.acr import LEVELS
from service.oidc.checks.base import Draft
from service.oidc.errors import InvalidRequest, OAuthError

MAX_ACR_VALUES = 200
MAX_CLAIMS = 4000


class UnmetAuthenticationRequirements(OAuthError):
    """OpenID Connect Unmet Authentication Requirements 1.0: an essential ``acr`` Sesame
    cannot reach."""

    error = "unmet_authentication_requirements"


def _essential_acr(claims: Any) -> tuple[list[str], bool]:
    """The ``acr`` values an essential claim request names, and whether one was essential."""
    values: list[str] = []
    essential = False
    if not isinstance(claims, dict):
        raise InvalidRequest("claims must be a JSON object")
    for target in ("id_token", "userinfo"):
        members = claims.get(target)
        if members is None:
            continue
        if not isinstance(members, dict):
            raise InvalidRequest(f"claims.{target} must be a JSON object")
        acr = members.get("acr")
        if not isinstance(acr, dict) or acr.get("essential") is not True:
            continue
        essential = True
        named = acr.get("values", [acr["value"]] if "value" in acr else [])
        if not isinstance(named, list) or not all(isinstance(v, str) for v in named):
            raise InvalidRequest("claims: acr values must be strings")
        values.extend(named)
    return values, essential


async def check_acr(draft: Draft) -> None:
    asked = draft.params.get("acr_values") or ""
    raw_claims = draft.params.get("claims")
    if len(asked) > MAX_ACR_VALUES:
        raise InvalidRequest(f"acr_values is longer than {MAX_ACR_VALUES} characters")
    values = asked.split()
    if raw_claims is not None:
        if len(raw_claims) > MAX_CLAIMS:
            raise InvalidRequest(f"claims is longer than {MAX_CLAIMS} characters")
        try:
            parsed = json.loads(raw_claims)
        except ValueError as exc:
            raise InvalidRequest("claims is not JSON") from exc
        named, essential = _essential_acr(parsed)
        if essential and named and not set(named) & set(LEVELS):
            raise UnmetAuthenticationRequirements(
                f"Sesame's access levels are {' and '.join(LEVELS)}"
            )
        values.extend(named)
    draft.found["acr_values"] = tuple(v for v in dict.fromkeys(values) if v in LEVELS)
