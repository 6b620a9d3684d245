"""Server keys: keyed hashes for bearer secrets, and the JOSE signing keys with their JWKS."""
