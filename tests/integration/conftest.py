"""Fixtures shared by the protocol tests: a registered first-party client and a signed-in
browser."""

from __future__ import annotations

import pytest

from tests.factories import Browser, signed_up
from tests.rp import RelyingParty


@pytest.fixture
async def rp(app) -> RelyingParty:
    return await RelyingParty.register(app)


@pytest.fixture
async def browser(client) -> Browser:
    signed_in, _, _ = await signed_up(client)
    return signed_in
