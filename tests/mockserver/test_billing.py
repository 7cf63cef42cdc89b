"""The legacy billing endpoints, with and without /v1, as quota tools call them."""

from __future__ import annotations

import httpx

from contracts.model import ContractSet
from contracts.validation import Validators

AUTH = {"Authorization": "Bearer sk-billing"}


def test_subscription_and_usage(mock_url: str, contracts: ContractSet) -> None:
    v = Validators(contracts.components)
    for op_id, path in (
        ("billing.subscription", "/v1/dashboard/billing/subscription"),
        ("billing.usage", "/v1/dashboard/billing/usage?start_date=2024-01-01&end_date=2024-01-31"),
    ):
        op = contracts.get(op_id)
        for prefix in ("", "/v1"):
            url = mock_url + (path if prefix else path.removeprefix("/v1"))
            r = httpx.get(url, headers=AUTH)
            assert r.status_code == 200 and r.headers["x-relaykit-operation"] == op_id
            assert v.problems(op.response.schema, r.json()) == []
    assert httpx.get(mock_url + "/v1/dashboard/billing/subscription").status_code == 401
