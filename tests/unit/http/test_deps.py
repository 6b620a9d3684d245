"""Request helpers of ``service.http.deps``."""

from __future__ import annotations

import pytest

from service.http.deps import safe_next


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/account", "/account"),
        ("/account?x=1#y", "/account?x=1#y"),
        (None, "/account"),
        ("//evil.example", "/account"),
        ("/\\evil.example", "/account"),
        ("https://evil.example/", "/account"),
        ("javascript:alert(1)", "/account"),
        ("/ok\r\nSet-Cookie: x", "/account"),
        ("account", "/account"),
    ],
)
def test_safe_next_accepts_same_origin_paths_only(value, expected):
    assert safe_next(value) == expected
