"""The injected clock (``service.clock``)."""

from __future__ import annotations

from service.clock import FrozenClock


def test_frozen_clock_moves_only_when_told():
    clock = FrozenClock()
    start = clock.now()
    assert clock.now() == start
    clock.advance(5)
    assert (clock.now() - start).total_seconds() == 5
