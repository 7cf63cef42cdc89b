"""Resolution once: the operation a request means is resolved by the first layer that asks and
found again, in the ASGI scope, by every layer after it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from contracts.model import ContractSet
from contracts.paths import PrefixMap
from mockserver import MockConfig, create_app
from mockserver.fault_rules import rules_from_dict
from mockserver.faults import FaultMiddleware
from mockserver.resolution import STATE_KEY, Resolution, Resolver

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
STREAM_OP = "openai.chat.completions.stream"
NO_PACING = MockConfig(ttfe=0, interval=0)


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "headers": []}


def test_a_resolution_is_kept_in_the_scope_and_reused(contracts: ContractSet) -> None:
    resolver = Resolver(contracts)
    scope = _scope("HEAD", "/v1/models")
    first = resolver.of(scope)
    assert scope["state"][STATE_KEY] is first and resolver.of(scope) is first
    assert first.operation is not None and first.operation.id == "openai.models.list"
    assert Resolver(contracts).of(scope) is first  # same settings: found, not redone


def test_a_resolver_with_other_settings_resolves_again(contracts: ContractSet) -> None:
    scope = _scope("POST", "/relay/chat/completions")
    assert Resolver(contracts).of(scope).candidates == []
    mapped = Resolver(contracts, PrefixMap((("/v1/chat", "/relay/chat"),)))
    assert len(mapped.of(scope).candidates) > 1


def test_choose_picks_by_body_once(contracts: ContractSet) -> None:
    resolution = Resolver(contracts).resolve("POST", "/v1/chat/completions")
    assert resolution.operation is None and len(resolution.candidates) > 1
    chosen = Resolver.choose(resolution, {**CHAT, "stream": True})
    assert chosen.id == STREAM_OP
    assert Resolver.choose(resolution, CHAT) is chosen  # decided once


def test_aliases_and_params_come_with_the_resolution(contracts: ContractSet) -> None:
    resolution = Resolver(contracts).resolve("GET", "/mj-fast/mj/task/123/fetch")
    assert resolution.alias is not None and resolution.alias.alias == "/mj-fast/mj"
    assert resolution.match.params == {"id": "123"}
    assert [op.id for op in resolution.candidates] == ["mj.task.fetch"]


def test_the_fault_layer_and_the_app_resolve_each_request_once(
    contracts: ContractSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    real = Resolver.resolve

    def counting(self: Resolver, method: str, path: str) -> Resolution:
        calls.append((method, path))
        return real(self, method, path)

    monkeypatch.setattr(Resolver, "resolve", counting)
    rule = {"fault": "latency", "latency-ms": 1, "match": {"operation": STREAM_OP}}
    app = FaultMiddleware(
        create_app(contracts, NO_PACING), contracts, rules_from_dict({"rules": [rule]}), NO_PACING
    )

    async def both() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        auth = {"Authorization": "Bearer sk-test"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=auth) as c:
            streamed = await c.post("/v1/chat/completions", json={**CHAT, "stream": True})
            return streamed, await c.post("/v1/chat/completions", json=CHAT)

    streamed, plain = asyncio.run(both())
    assert "latency=" in streamed.headers["x-relaykit-fault"]
    assert streamed.headers["x-relaykit-operation"] == STREAM_OP
    assert plain.headers["x-relaykit-operation"] == "openai.chat.completions.nonstream"
    assert calls == [("POST", "/v1/chat/completions")] * 2
