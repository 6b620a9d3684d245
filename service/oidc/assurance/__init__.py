"""High-assurance apps (issue 17; FAPI 2.0 Security Profile): what a bank or a health app asks
of its identity provider beyond the foundations every app gets.

* ``jwks``: a client's own public keys, registered inline or fetched from its ``jwks_uri``;
* ``assertions``: ``private_key_jwt`` client authentication (RFC 7523, OIDC Core 9);
* ``dpop``: sender-constrained tokens (RFC 9449);
* ``request_object``: signed authorization requests (RFC 9101);
* ``acr``: access levels from the way the person signed in (OIDC Core 2, 3.1.2.1, 5.5.1.1);
* ``profile``: the per-client FAPI 2.0 switch that holds a client to all of it.

Pushed authorization requests (RFC 9126) are ``service.oidc.par``.
"""
