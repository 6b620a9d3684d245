"""``prompt`` and ``max_age`` (OIDC Core 3.1.2.1).

* ``prompt`` is made of ``none``, ``login``, ``consent`` and ``select_account``; ``none`` stands
  alone.
* ``max_age`` is a non-negative integer number of seconds.
"""

from __future__ import annotations

from service.oidc.checks.base import Draft
from service.oidc.errors import InvalidRequest

PROMPTS = frozenset({"none", "login", "consent", "select_account"})


async def check_prompt(draft: Draft) -> None:
    prompt = tuple(dict.fromkeys((draft.params.get("prompt") or "").split()))
    if set(prompt) - PROMPTS:
        raise InvalidRequest(f"prompt must be made of {', '.join(sorted(PROMPTS))}")
    if "none" in prompt and len(prompt) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values")
    draft.found["prompt"] = prompt


async def check_max_age(draft: Draft) -> None:
    value = draft.params.get("max_age")
    if value is None:
        return
    if not value.isdigit() or len(value) > 9:
        raise InvalidRequest("max_age must be a non-negative integer (seconds)")
    draft.found["max_age"] = int(value)
