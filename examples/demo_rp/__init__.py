"""The demo relying app (see app.py)."""

import warnings

# Authlib 1.9 announces a future move from httpx to httpx2 on import; nothing to act on here.
warnings.filterwarnings("ignore", message="The httpx module is deprecated")
