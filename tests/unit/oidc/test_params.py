"""Request parameters, each allowed once (RFC 6749 3.1; ``service.oidc.params``)."""

from __future__ import annotations

from service.oidc.params import single_values


def test_repeated_parameters_are_reported_and_empty_ones_ignored():
    values, repeated = single_values([("a", "1"), ("b", ""), ("a", "2"), ("c", "3")])
    assert repeated == {"a"}
    assert "b" not in values and values["c"] == "3"
