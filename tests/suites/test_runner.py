"""The runner: hard budget caps mid-run, harness errors as findings, fields and latency kept."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest

from contracts.model import ContractSet
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread
from suites.findings import Outcome
from suites.plan import make_plan
from suites.profile import Budget, Limits, Profile
from suites.runner import field_paths, run

KEY = "sk-relaykit-runner-key-000000"
FAST = Limits(rps=0, retries=0, poll_interval=0.05, task_seconds=10)
ONLY = ["openai.chat.completions.nonstream", "openai.embeddings", "mj.submit.imagine"]


@pytest.fixture(scope="module")
def url(contracts: ContractSet) -> Iterator[str]:
    config = MockConfig(api_keys=frozenset({KEY}), ttfe=0, interval=0, task_speed=20)
    with serve_in_thread(create_app(contracts, config)) as base:
        yield base


def test_the_request_cap_holds_mid_run_and_the_rest_is_skipped(
    contracts: ContractSet, url: str
) -> None:
    generous = Profile(limits=FAST, budget=Budget(10_000, 10**7, 100))
    plan = make_plan(contracts, generous, ONLY)
    tight = Profile(limits=FAST, budget=Budget(requests=12, tokens=10**7, paid_media_calls=100))
    record = run(contracts, tight, plan, url, KEY)
    assert record.spent["requests"] <= 12
    skipped = [f for f in record.findings if f.outcome is Outcome.SKIP]
    assert any(f.message.startswith("budget: requests") for f in skipped)
    assert not record.failed()


def test_paid_calls_are_never_sent_past_the_cap(contracts: ContractSet, url: str) -> None:
    plan = make_plan(contracts, Profile(budget=Budget(10_000, 10**7, 100)), ["mj.submit.imagine"])
    record = run(contracts, Profile(limits=FAST, budget=Budget(10_000, 10**7, 0)), plan, url, KEY)
    assert record.spent["paid_calls"] == 0
    assert any("paid media calls" in f.message for f in record.findings)


def test_a_harness_bug_is_an_error_finding_not_a_crash(contracts: ContractSet, url: str) -> None:
    plan = make_plan(contracts, Profile(), ["openai.embeddings"])
    with mock.patch("suites.runner.check_negative", side_effect=KeyError("boom")):
        record = run(contracts, Profile(limits=FAST), plan, url, KEY)
    errors = [f for f in record.findings if f.outcome is Outcome.ERROR]
    assert [(f.check_id, f.message) for f in errors] == [
        ("negative", "harness error: KeyError: 'boom'")
    ]
    assert any(f.outcome is Outcome.PASS for f in record.findings)


def test_latency_and_response_fields_are_kept_per_operation(
    contracts: ContractSet, url: str
) -> None:
    plan = make_plan(contracts, Profile(), ["openai.embeddings"])
    record = run(contracts, Profile(limits=FAST), plan, url, KEY)
    info = record.operations["openai.embeddings"]
    assert info.latency and all(s > 0 for s in info.latency)
    assert {"data", "data.*.embedding", "usage.total_tokens"} <= set(info.fields)


def test_field_paths_walk_objects_and_arrays() -> None:
    assert sorted(field_paths({"a": [{"b": 1}], "c": {"d": None}})) == [
        "a",
        "a.*.b",
        "c",
        "c.d",
    ]


def test_a_dead_relay_stops_the_run_early_and_the_rest_is_skipped(
    contracts: ContractSet,
) -> None:
    plan = make_plan(contracts, Profile(), ["models", "openai-chat"], 1)
    record = run(contracts, Profile(limits=FAST), plan, "http://127.0.0.1:9", KEY)
    reason = "relay not answering: 6 of the first 6 requests could not connect"
    assert record.run["stopped"] == reason
    assert record.spent["requests"] < 12  # the few in flight when it stopped, no more
    skipped = {f.message for f in record.findings if f.outcome is Outcome.SKIP}
    assert f"not run: {reason}" in skipped
    errors = [f for f in record.findings if f.outcome is Outcome.ERROR]
    assert errors and all("ConnectError" in f.message for f in errors)


def test_the_run_deadline_skips_what_is_left(contracts: ContractSet, url: str) -> None:
    plan = make_plan(contracts, Profile(), ONLY)
    quick = Profile(limits=Limits(rps=0, retries=0, run_seconds=0.001))
    record = run(contracts, quick, plan, url, KEY)
    assert record.run["stopped"] == "run deadline (0.001 s) reached"
    assert record.spent["requests"] == 0
    assert {f.outcome for f in record.findings} == {Outcome.SKIP}
