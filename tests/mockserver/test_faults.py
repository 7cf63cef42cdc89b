"""Fault injection over plain HTTP: every fault kind, the Prefer parameters, the rules file."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.model import ContractSet
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread
from mockserver.fault_rules import (
    FaultRulesError,
    load_fault_rules,
    parse_fault_header,
    rules_from_dict,
)
from mockserver.faults import FaultMiddleware
from mockserver.stack import build_stack
from tests.serving import free_port

AUTH = {"Authorization": "Bearer sk-anything"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello."}]}
STREAM = {**CHAT, "stream": True}
CHAT_PATH = "/v1/chat/completions"
NO_PACING = MockConfig(ttfe=0, interval=0)


@pytest.fixture(scope="module")
def served(contracts: ContractSet) -> Iterator[tuple[str, FaultMiddleware]]:
    """The mock as `relaykit serve` runs it, without a rules file."""
    stack = build_stack(contracts, NO_PACING)
    with serve_in_thread(stack.app) as url:
        yield url, stack.faults


@pytest.fixture()
def http(served: tuple[str, FaultMiddleware]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0], headers=AUTH, timeout=10) as client:
        yield client


def post(
    http: httpx.Client, prefer: str, body: Any = CHAT, path: str = CHAT_PATH
) -> httpx.Response:
    return http.post(path, json=body, headers={"Prefer": prefer})


def events(raw: bytes) -> list[str]:
    """The data of each SSE frame received, in order."""
    return [
        line[len("data: ") :]
        for frame in raw.decode().split("\n\n")
        for line in frame.splitlines()
        if line.startswith("data: ")
    ]


def stream_until_error(
    http: httpx.Client, prefer: str, body: Any = STREAM
) -> tuple[bytes, Exception | None]:
    """The bytes that arrived and the transport error that ended them (None: a clean end)."""
    got = b""
    try:
        with http.stream("POST", CHAT_PATH, json=body, headers={"Prefer": prefer}) as r:
            assert r.status_code == 200
            for chunk in r.iter_raw():
                got += chunk
    except httpx.TransportError as exc:
        return got, exc
    return got, None


def rules_server(contracts: ContractSet, tmp_path: Path, text: str) -> Any:
    """`relaykit serve --faults FILE` in a thread: the rules file goes through MockConfig."""
    path = tmp_path / "faults.yaml"
    path.write_text(text, encoding="utf-8")
    stack = build_stack(contracts, MockConfig(ttfe=0, interval=0, faults_file=str(path)))
    assert stack.faults.rules is not None
    return stack.app


# ---- pass-through ---------------------------------------------------------------------------


def test_without_a_fault_the_app_answers_untouched(http: httpx.Client) -> None:
    r = http.post(CHAT_PATH, json=CHAT)
    assert r.status_code == 200 and "x-relaykit-fault" not in r.headers
    assert r.json()["object"] == "chat.completion"


def test_the_apps_own_preferences_still_work(http: httpx.Client) -> None:
    r = post(http, "code=429")
    assert r.status_code == 429 and r.headers["x-relaykit-simulated"] == "1"
    assert "x-relaykit-fault" not in r.headers
    r = post(http, "ttfe-ms=0, interval-ms=0", STREAM)
    assert r.status_code == 200 and events(r.content)[-1] == "[DONE]"
    assert parse_fault_header("ttfe-ms=300, interval-ms=40") is None  # the app's, not ours


# ---- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 524])
def test_error_faults_answer_in_the_openai_envelope(http: httpx.Client, status: int) -> None:
    r = post(http, f"fault={status}")
    assert r.status_code == status
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert r.headers["x-relaykit-fault"] == f"{status}; header"
    assert r.headers["x-relaykit-simulated"] == "1"
    if status == 524:
        assert "timeout" in error["message"].lower()


def test_429_carries_the_retry_after_asked_for(http: httpx.Client) -> None:
    r = post(http, "fault=429, retry-after=7")
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    assert r.headers["x-relaykit-fault"] == "429 retry-after=7; header"
    assert r.json()["error"]["type"] == "rate_limit_exceeded"
    assert post(http, "fault=429").headers["retry-after"] == "1"  # the envelope's default


def test_errors_use_the_operations_envelope(http: httpx.Client) -> None:
    body = {"model": "claude-3-5-sonnet", "max_tokens": 8, "messages": CHAT["messages"]}
    r = post(http, "fault=524", body, "/v1/messages")
    assert r.status_code == 524
    payload = r.json()
    assert payload["type"] == "error" and "timeout" in payload["error"]["message"].lower()
    r = post(http, "fault=503", {}, "/v1/nope")  # no operation: the openai envelope
    assert r.status_code == 503 and r.json()["error"]["code"] == "model_not_found"


# ---- delays ---------------------------------------------------------------------------------


def test_latency_is_reported_and_is_a_lower_bound(
    http: httpx.Client, served: tuple[str, FaultMiddleware]
) -> None:
    started = time.monotonic()
    r = post(http, "latency-ms=200, jitter-ms=50")
    elapsed = time.monotonic() - started
    assert r.status_code == 200 and r.json()["object"] == "chat.completion"
    label = r.headers["x-relaykit-fault"]
    assert label.startswith("latency=") and label.endswith("ms; header")
    applied = served[1].applied[-1]
    assert 0.150 <= applied.latency <= 0.250
    assert label == f"latency={applied.latency * 1000:.0f}ms; header"
    assert elapsed >= applied.latency


def test_latency_combines_with_an_error(http: httpx.Client) -> None:
    r = post(http, "fault=503, latency-ms=30")
    assert r.status_code == 503 and r.headers["x-relaykit-fault"] == "503; latency=30ms; header"


def test_pace_times_each_event_with_jitter(
    http: httpx.Client, served: tuple[str, FaultMiddleware]
) -> None:
    prefer = "fault=pace, ttfe-ms=100, interval-ms=20, jitter-ms=5"
    started = time.monotonic()
    first: float | None = None
    got = b""
    with http.stream("POST", CHAT_PATH, json=STREAM, headers={"Prefer": prefer}) as r:
        for chunk in r.iter_raw():
            first = first if first is not None else time.monotonic() - started
            got += chunk
    total = time.monotonic() - started
    applied = served[1].applied[-1]
    assert applied.ttfe is not None and 0.095 <= applied.ttfe <= 0.105
    assert r.headers["x-relaykit-fault"].startswith(f"ttfe={applied.ttfe * 1000:.0f}ms;")
    assert applied.events == len(events(got)) and len(applied.gaps) == applied.events - 1
    assert all(0.015 <= gap <= 0.025 for gap in applied.gaps)
    assert first is not None and first >= applied.ttfe
    assert total >= applied.ttfe + sum(applied.gaps)
    assert events(got)[-1] == "[DONE]"


def test_drip_sends_the_same_body_a_few_bytes_at_a_time(
    http: httpx.Client, served: tuple[str, FaultMiddleware]
) -> None:
    started = time.monotonic()
    with http.stream(
        "POST", CHAT_PATH, json=CHAT, headers={"Prefer": "fault=drip, drip-bytes=64, drip-ms=5"}
    ) as r:
        chunks = list(r.iter_raw())
    elapsed = time.monotonic() - started
    body = b"".join(chunks)
    assert r.headers["x-relaykit-fault"] == "drip 64B/5ms; header"
    assert int(r.headers["content-length"]) == len(body)
    assert json.loads(body)["choices"][0]["message"]["content"]
    pieces = -(-len(body) // 64)
    assert len(chunks) > 1
    assert elapsed >= (pieces - 1) * 0.005


# ---- broken bodies --------------------------------------------------------------------------


def test_cut_closes_the_stream_after_n_events(
    http: httpx.Client, served: tuple[str, FaultMiddleware]
) -> None:
    got, error = stream_until_error(http, "fault=cut, after=3")
    assert isinstance(error, httpx.RemoteProtocolError)
    assert "incomplete chunked read" in str(error)
    assert len(events(got)) == 3 and "[DONE]" not in events(got)
    assert served[1].applied[-1].outcome == "cut after 3 event(s)"


def test_cut_after_more_events_than_the_stream_has_still_leaves_it_unfinished(
    http: httpx.Client,
) -> None:
    got, error = stream_until_error(http, "fault=cut, after=1000")
    assert isinstance(error, httpx.RemoteProtocolError)
    assert events(got)[-1] == "[DONE]"


def test_cut_of_a_json_body_sends_half_of_it(http: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|closed"):
        post(http, "fault=cut")


def test_malformed_breaks_exactly_one_event(http: httpx.Client) -> None:
    clean = events(post(http, "fault=none", STREAM).content)
    broken = events(post(http, "fault=malformed, at=2", STREAM).content)
    assert len(broken) == len(clean)
    for i, data in enumerate(broken):
        if i == 1:
            with pytest.raises(json.JSONDecodeError):
                json.loads(data)
        elif data != "[DONE]":
            json.loads(data)


def test_malformed_json_body_keeps_its_length(http: httpx.Client) -> None:
    r = post(http, "fault=malformed")
    assert r.status_code == 200 and int(r.headers["content-length"]) == len(r.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)


def test_empty_is_a_200_without_a_body(http: httpx.Client) -> None:
    for body in (CHAT, STREAM):
        r = post(http, "fault=empty", body)
        assert r.status_code == 200 and r.content == b""
        assert r.headers["content-length"] == "0"


def test_reset_closes_the_connection_without_a_response(
    http: httpx.Client, served: tuple[str, FaultMiddleware]
) -> None:
    with pytest.raises(httpx.ReadError, match="reset"):
        post(http, "fault=reset")
    assert served[1].applied[-1].outcome == "reset"
    assert http.post(CHAT_PATH, json=CHAT).status_code == 200  # the server is still fine


# ---- bad parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefer", "named"),
    [
        ("fault=teapot", "fault=teapot"),
        ("fault=cut, after=x", "after=x"),
        ("fault=429, retry-after=-1", "retry-after=-1"),
        ("fault=429, retry-after=1.5", "retry-after=1.5"),
        ("fault=latency", "latency-ms"),
        ("fault=pace", "ttfe-ms"),
        ("fault=drip, drip-bytes=0", "drip-bytes=0"),
        ("fault=cut, at=2", "at does not apply to fault=cut"),
        ("latency-ms=abc", "latency-ms=abc"),
        ("ttfe-ms=10, jitter-ms=99999", "jitter-ms=99999"),
    ],
)
def test_bad_fault_parameters_are_a_400_naming_them(
    http: httpx.Client, prefer: str, named: str
) -> None:
    r = post(http, prefer)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["param"] == "Prefer" and named in error["message"]


# ---- rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("- fault: cut\n", "<root>: "),
        ("rules: [{fault: teapot}]\n", "rules.0.fault: "),
        ("rules: [{fault: cut, latency: 3}]\n", "rules.0: Additional properties"),
        ("rules: [{fault: cut, probability: 2}]\n", "rules.0.probability: "),
        ("seed: x\nrules: []\n", "seed: "),
        ("rules: [{fault: 429, after: 2}]\n", "rules.0.after: after does not apply"),
        ("rules: [{fault: latency}]\n", "rules.0.latency-ms: "),
        ("rules: [{fault: 503, match: {verb: GET}}]\n", "rules.0.match: "),
        ("rules: [{fault: 503, match: {operation: nope.nope}}]\n", "rules.0.match.operation: "),
        ("rules: [{fault: 503\n", "cannot read"),
    ],
)
def test_rules_file_errors_name_the_file_and_the_field(
    contracts: ContractSet, tmp_path: Path, text: str, field: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FaultRulesError) as info:
        load_fault_rules(path, contracts)
    assert str(info.value).startswith(f"{path}: ") and field in str(info.value)


def test_a_rule_by_operation_id_matches_only_that_operation(
    contracts: ContractSet, tmp_path: Path
) -> None:
    app = rules_server(
        contracts,
        tmp_path,
        "rules:\n  - match: {operation: openai.chat.completions.stream}\n    fault: 503\n",
    )
    with serve_in_thread(app) as url, httpx.Client(base_url=url, headers=AUTH) as http:
        streamed = http.post(CHAT_PATH, json=STREAM)
        plain = http.post(CHAT_PATH, json=CHAT)
    assert streamed.status_code == 503
    assert streamed.headers["x-relaykit-operation"] == "openai.chat.completions.stream"
    assert streamed.headers["x-relaykit-fault"] == "503; rule=0"
    # the body read to pick the operation reached the app intact
    assert plain.status_code == 200 and plain.json()["object"] == "chat.completion"
    assert plain.headers["x-relaykit-operation"] == "openai.chat.completions.nonstream"


def test_rules_match_path_globs_and_methods(contracts: ContractSet, tmp_path: Path) -> None:
    app = rules_server(
        contracts,
        tmp_path,
        "rules:\n"
        "  - {name: models, match: {path: /v1/mod*, method: get}, fault: 502}\n"
        "  - {match: {path: [/v1/embeddings]}, fault: latency, latency-ms: 5}\n",
    )
    with serve_in_thread(app) as url, httpx.Client(base_url=url, headers=AUTH) as http:
        models = http.get("/v1/models")
        chat = http.post(CHAT_PATH, json=CHAT)
        emb = http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
    assert models.status_code == 502 and models.headers["x-relaykit-fault"] == "502; rule=models"
    assert chat.status_code == 200 and "x-relaykit-fault" not in chat.headers
    assert emb.status_code == 200 and emb.headers["x-relaykit-fault"] == "latency=5ms; rule=1"


def test_a_header_overrides_the_rules(contracts: ContractSet, tmp_path: Path) -> None:
    app = rules_server(contracts, tmp_path, "rules: [{fault: 503}]\n")
    with serve_in_thread(app) as url, httpx.Client(base_url=url, headers=AUTH) as http:
        ruled = http.post(CHAT_PATH, json=CHAT)
        spared = http.post(CHAT_PATH, json=CHAT, headers={"Prefer": "fault=none"})
        other = http.post(CHAT_PATH, json=CHAT, headers={"Prefer": "fault=429"})
    assert ruled.status_code == 503 and ruled.headers["x-relaykit-fault"] == "503; rule=0"
    assert spared.status_code == 200
    assert other.status_code == 429 and other.headers["x-relaykit-fault"] == "429; header"


def test_times_limits_a_rule_to_the_first_requests(contracts: ContractSet, tmp_path: Path) -> None:
    app = rules_server(contracts, tmp_path, "rules: [{fault: 429, times: 2}]\n")
    with serve_in_thread(app) as url, httpx.Client(base_url=url, headers=AUTH) as http:
        statuses = [http.post(CHAT_PATH, json=CHAT).status_code for _ in range(4)]
    assert statuses == [429, 429, 200, 200]


def test_probability_with_a_seed_is_deterministic(contracts: ContractSet, tmp_path: Path) -> None:
    text = "seed: 42\nrules: [{fault: 503, probability: 0.5}]\n"

    def run() -> list[int]:
        app = rules_server(contracts, tmp_path, text)
        with serve_in_thread(app) as url, httpx.Client(base_url=url, headers=AUTH) as http:
            return [http.get("/v1/models").status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert 0 < first.count(503) < 30
    other = rules_from_dict({"seed": 43, "rules": [{"fault": 503, "probability": 0.5}]})
    drawn = [other.pick("GET", "/v1/models", lambda: None) is not None for _ in range(30)]
    assert drawn != [s == 503 for s in first]  # another seed, another sequence


def test_relaykit_serve_refuses_a_bad_rules_file(tmp_path: Path) -> None:
    bad = tmp_path / "faults.yaml"
    bad.write_text("rules: [{fault: cut, probability: 7}]\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "relaykit", "serve", "--port", str(free_port())]
    result = subprocess.run(
        [*cmd, "--faults", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert f"{bad}: rules.0.probability: " in result.stderr
    assert "Traceback" not in result.stderr


def test_rules_can_be_given_directly(contracts: ContractSet) -> None:
    rules = rules_from_dict({"rules": [{"fault": "empty", "match": {"method": "GET"}}]})
    app = FaultMiddleware(create_app(contracts, NO_PACING), contracts, rules)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, headers=AUTH) as http:
        r = http.get("/v1/models")
    assert r.status_code == 200 and r.content == b""
    assert app.applied[-1].outcome == "empty 200"


def test_rules_resolve_operations_under_the_relays_path_map(contracts: ContractSet) -> None:
    config = MockConfig(ttfe=0, interval=0, path_map=(("/v1/chat", "/relay/chat"),))
    rules = rules_from_dict(
        {"rules": [{"fault": 502, "match": {"operation": "openai.chat.completions.stream"}}]}
    )
    app = FaultMiddleware(create_app(contracts, config), contracts, rules, config)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, headers=AUTH) as http:
        streamed = http.post("/relay/chat/completions", json=STREAM)
        plain = http.post("/relay/chat/completions", json=CHAT)
    assert streamed.status_code == 502
    assert streamed.headers["x-relaykit-operation"] == "openai.chat.completions.stream"
    assert plain.status_code == 200
