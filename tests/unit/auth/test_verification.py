"""WebAuthn rules of ``service.auth.verification`` that need no ceremony."""

from __future__ import annotations

import pytest

from service.auth.verification import counter_regressed


@pytest.mark.parametrize(
    ("stored", "new", "regressed"),
    [
        (0, 0, False),
        (0, 1, False),
        (5, 6, False),
        (5, 5, True),
        (5, 4, True),
        (5, 0, True),
        (0, 0, False),
    ],
)
def test_counter_rule(stored, new, regressed):
    assert counter_regressed(stored, new) is regressed
