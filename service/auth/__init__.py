"""Login ceremonies (passkeys), sign-up, sessions. No web framework imports here."""
