"""Sesame: a passwordless identity service (passkeys, email links, OpenID Connect provider)."""
