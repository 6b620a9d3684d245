"""The OpenID Connect provider's protocol core (OIDC Core 1.0, RFC 6749 and friends).

It never renders a page or reads a cookie: the http layer hands it parameters and an
``Authentication`` and turns its results and errors into responses.
"""
