"""Access levels from the way the person signed in (``acr``, OIDC Core 2; requested with
``acr_values``, 3.1.2.1, or an essential ``acr`` claim, 5.5.1.1).

Two levels, lowest first:

* ``email``: an email link (or code) only;
* ``phr``: a passkey sign-in, phishing resistant (a session confirmed with a passkey after an
  email link counts too).

A request that asks for ``phr`` (in ``acr_values`` or as an essential claim) gets a code only
after a passkey sign-in: a person signed in by email is asked for their passkey (step up), and
with ``prompt=none`` the app hears ``login_required``. Sesame treats ``acr_values`` as a
requirement, not a wish, so that an app can protect its sensitive area with one parameter.
The ID token's ``acr`` is one of the values asked for when one was (a passkey session meets
``email`` too), else the session's own level. Values Sesame does not know are ignored, unless
an essential claim names nothing else: then ``unmet_authentication_requirements``.
"""

from __future__ import annotations

from collections.abc import Iterable

EMAIL = "email"
PASSKEY = "phr"
LEVELS = {EMAIL: 1, PASSKEY: 2}
ACR_VALUES = (PASSKEY, EMAIL)


def acr_of(amr: Iterable[str]) -> str:
    return PASSKEY if "passkey" in amr else EMAIL


def satisfied(asked: tuple[str, ...], amr: Iterable[str]) -> bool:
    """Whether a session made this way meets the lowest level asked for (nothing asked: yes)."""
    if not asked:
        return True
    return LEVELS[acr_of(amr)] >= min(LEVELS[value] for value in asked)


def needs_passkey(asked: tuple[str, ...]) -> bool:
    return bool(asked) and not satisfied(asked, ("email",))


def chosen(asked: tuple[str, ...], amr: Iterable[str]) -> str:
    """The ``acr`` to state: the session's own when asked for, else the highest value asked
    for that it meets (5.5.1.1: one of the requested values)."""
    own = acr_of(amr)
    if not asked or own in asked:
        return own
    met = [value for value in asked if LEVELS[value] <= LEVELS[own]]
    return max(met, key=LEVELS.__getitem__) if met else own
