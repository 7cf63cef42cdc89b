"""Profiles are validated with the field at fault; plans respect every cap of the budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.model import ContractSet
from suites.plan import CORE, make_plan, selected
from suites.profile import Budget, Profile, ProfileError, load_profile, profile_from_dict

PROFILE = """
name: my-relay
base_url: https://relay.example.com
key_env: MY_RELAY_KEY
models: {chat: gpt-4o-mini, embeddings: text-embedding-3-small}
path_map: ["/suno/submit=/suno/v1"]
families: {include: [openai-chat, embeddings, midjourney], exclude: []}
budget: {requests: 120, tokens: 4000, paid_media_calls: 0}
limits: {rps: 2, timeout: 30, retries: 1}
"""


def test_a_profile_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "relay.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    p = load_profile(path)
    assert p.base_url == "https://relay.example.com" and p.models["chat"] == "gpt-4o-mini"
    assert p.path_map.to_relay("/suno/submit/music") == "/suno/v1/music"
    assert p.budget == Budget(requests=120, tokens=4000, paid_media_calls=0)
    monkeypatch.setenv("MY_RELAY_KEY", "sk-from-env")
    assert p.api_key() == "sk-from-env"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"base_url": "relay.example.com"}, "base_url: 'relay.example.com' does not match"),
        ({"budget": {"tokens": -1}}, "budget.tokens: -1 is less than the minimum of 0"),
        ({"api_key": "sk-secret"}, "<root>: Additional properties are not allowed ('api_key'"),
        (
            {"path_map": ["/suno"]},
            "path_map: path map '/suno': expected CONTRACT_PREFIX=RELAY_PREFIX",
        ),
    ],
)
def test_bad_profiles_name_the_field(data: dict, message: str) -> None:
    with pytest.raises(ProfileError, match=r"^relay\.yaml: ") as info:
        profile_from_dict(data, "relay.yaml")
    assert message in str(info.value)


def test_only_narrows_to_families_and_ids(contracts: ContractSet) -> None:
    p = Profile(include=("openai-chat", "embeddings"))
    assert {op.family for op in selected(contracts, p)} == {"openai-chat", "embeddings"}
    assert [op.id for op in selected(contracts, p, ["openai.embeddings"])] == ["openai.embeddings"]
    assert not selected(contracts, Profile(exclude=("openai-chat",)), ["openai-chat"])


def test_plan_respects_every_cap(contracts: ContractSet) -> None:
    budget = Budget(requests=60, tokens=500, paid_media_calls=1)
    plan = make_plan(contracts, Profile(budget=budget))
    totals = plan.totals()
    assert totals["requests"] <= 60 and totals["tokens"] <= 500 and totals["paid_calls"] <= 1
    assert totals["skipped"] > 0
    reasons = {c.skip.split(" (")[0] for c in plan.checks if c.skip}
    assert reasons <= {"budget: requests", "budget: tokens", "budget: paid media calls"}


def test_the_core_comes_first_and_media_needs_permission(contracts: ContractSet) -> None:
    plan = make_plan(contracts, Profile(include=("midjourney",), budget=Budget(paid_media_calls=0)))
    imagine = [c for c in plan.checks if c.operation_id == "mj.submit.imagine"]
    assert {c.check_id: bool(c.skip) for c in imagine} == {"negative": False, "examples": True}
    chat = make_plan(
        contracts, Profile(budget=Budget(tokens=0)), ["openai.chat.completions.nonstream"]
    )
    assert {c.check_id: bool(c.skip) for c in chat.checks} == {
        "negative": False,
        "examples": True,
        "property": True,
    }
    everything = make_plan(contracts, Profile())
    assert [(c.operation_id, c.check_id) for c in everything.checks[: len(CORE)]] == [
        (op_id, "examples") for op_id in CORE
    ]


def test_a_generous_budget_skips_nothing(contracts: ContractSet) -> None:
    big = Budget(requests=10**6, tokens=10**8, paid_media_calls=10**4)
    assert make_plan(contracts, Profile(budget=big)).totals()["skipped"] == 0


def test_profile_models_by_id_capability_then_family(contracts: ContractSet) -> None:
    from suites.probes import example_probes

    profile = Profile(models={"vision": "vis-1", "openai-chat": "chat-1", "tts": "voice-1"})
    vision = example_probes(contracts.get("openai.chat.vision.nonstream"), profile)[0]
    plain = example_probes(contracts.get("openai.chat.completions.nonstream"), profile)[0]
    speech = example_probes(contracts.get("openai.audio.speech"), profile)[0]
    assert vision.json_body["model"] == "vis-1" and plain.json_body["model"] == "chat-1"
    assert speech.json_body["model"] == "voice-1"
    by_id = Profile(models={"openai.chat.completions.nonstream": "exact", "chat": "general"})
    assert (
        example_probes(contracts.get("openai.chat.completions.nonstream"), by_id)[0].json_body[
            "model"
        ]
        == "exact"
    )
    gpt4all = contracts.get("openai.chat.gpt4_all.image_generation")
    documented = gpt4all.request.examples[0].value["model"]
    assert example_probes(gpt4all, profile)[0].json_body["model"] == documented
