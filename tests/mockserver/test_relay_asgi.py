"""The relay as a pure ASGI app: no framework around it catches its failures or answers its
lifespan, so it does both itself."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from contracts.model import ContractSet
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread


def test_a_failure_outside_the_renderers_is_answered_in_the_envelope(
    contracts: ContractSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = create_app(contracts, MockConfig())

    async def broken(request: Any) -> Any:
        raise RuntimeError("wires crossed")

    monkeypatch.setattr(relay, "handle", broken)
    with serve_in_thread(relay) as base:
        r = httpx.get(f"{base}/v1/models", headers={"Authorization": "Bearer sk-x"})
    assert r.status_code == 500 and r.json()["error"]["code"] == "relaykit_mock_bug"
    assert "wires crossed" in r.json()["error"]["message"]


def test_the_lifespan_is_answered(contracts: ContractSet) -> None:
    relay = create_app(contracts, MockConfig())
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> Any:
        return next(incoming)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    asyncio.run(relay({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
