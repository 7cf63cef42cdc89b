"""`relaykit proxy` and `relaykit record` in front of hostile upstreams: what they hold to judge
or to record is bounded, what they pass on is passed on whole, and nothing crashes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from contracts.model import ContractSet
from mockserver.background import serve_in_thread
from mockserver.cassettes import load_cassettes
from relaykit.proxy import ProxyApp
from relaykit.recorder import Recorder
from tests.hostile_server import HUGE_JSON_BYTES, Conn, hostile_relay

KEY = "sk-relaykit-caps-secret-0123456789"
HEADERS = {"Authorization": f"Bearer {KEY}"}
MIB = 1024 * 1024


def _download(url: str, method: str = "GET", body: Any = None) -> tuple[int, int]:
    """(status, bytes received), counted as they come: never held whole here either."""
    with httpx.stream(method, url, json=body, headers=HEADERS, timeout=60) as r:
        return r.status_code, sum(len(chunk) for chunk in r.iter_raw())


def _findings(app: ProxyApp) -> list[dict[str, Any]]:
    run_dir = asyncio.run(app.flush())
    assert run_dir is not None
    return list(json.loads((run_dir / "record.json").read_text("utf-8"))["findings"])


async def _many_events(c: Conn) -> bool:
    await c.head("200 OK", [("content-type", "text/event-stream"), ("connection", "close")])
    frame = b'data: {"n": 1}\n\n'
    for _ in range(12):
        await c.send(frame * 1000)
    await c.send(b"data: [DONE]\n\n")
    return False


def test_the_recorder_keeps_a_huge_body_as_size_and_hash(tmp_path: Path) -> None:
    out = tmp_path / "c"
    recorder = Recorder("http://upstream.invalid", out, max_body_bytes=MIB)
    with hostile_relay("huge-json") as up:
        recorder.forwarder.upstream = up
        with serve_in_thread(recorder) as url:
            assert _download(f"{url}/v1/models") == (200, HUGE_JSON_BYTES)
    (cassette,) = load_cassettes(out)
    assert cassette.response.body is not None
    assert cassette.response.body["size"] == HUGE_JSON_BYTES and "sha256" in cassette.response.body
    assert cassette.response.ended == "body over max_body_bytes (1 MiB): kept as size and hash"


def test_the_recorder_keeps_too_deep_json_as_text(tmp_path: Path) -> None:
    out = tmp_path / "c"
    with hostile_relay("deep-json") as up, serve_in_thread(Recorder(up, out)) as url:
        assert _download(f"{url}/v1/models") == (200, 400_000)
    (cassette,) = load_cassettes(out)
    assert cassette.response.body is not None and len(cassette.response.body["text"]) == 400_000


def test_the_recorder_stops_noting_events_at_the_stream_cap(tmp_path: Path) -> None:
    out = tmp_path / "c"
    with hostile_relay(_many_events) as up, serve_in_thread(Recorder(up, out)) as url:
        status, size = _download(f"{url}/v1/chat/completions", "POST", {"stream": True})
    assert status == 200 and size == 12 * 1000 * 16 + 14  # every byte passed on
    (cassette,) = load_cassettes(out)
    assert cassette.response.events is not None and len(cassette.response.events) == 10_000
    assert cassette.response.ended.startswith("cassette cut after 10000 events")


def test_the_proxy_passes_a_huge_body_on_unjudged(contracts: ContractSet, tmp_path: Path) -> None:
    app = ProxyApp("http://upstream.invalid", contracts, report_dir=tmp_path, name="huge")
    app.max_body_bytes = MIB
    with hostile_relay("huge-json") as up:
        app.forwarder.upstream = up
        with serve_in_thread(app) as url:
            assert _download(f"{url}/v1/models") == (200, HUGE_JSON_BYTES)
    (broken,) = [f for f in _findings(app) if f["outcome"] == "error"]
    assert broken["check_id"] == "response.body"
    assert broken["message"] == "the body went over max_body_bytes (1 MiB): passed on unjudged"


def test_the_proxy_judges_too_deep_json_without_a_crash(
    contracts: ContractSet, tmp_path: Path
) -> None:
    with hostile_relay("deep-json") as up:
        app = ProxyApp(up, contracts, report_dir=tmp_path, name="deep")
        with serve_in_thread(app) as url:
            assert _download(f"{url}/v1/models") == (200, 400_000)
    messages = {f["check_id"]: f["message"] for f in _findings(app)}
    assert messages["response.schema"].startswith("the body was not parsed: JSON nested 200,000")


def test_the_proxy_notes_a_long_stream_up_to_the_cap(
    contracts: ContractSet, tmp_path: Path
) -> None:
    chat = next(iter(contracts.get("openai.chat.completions.stream").request.examples)).value
    with hostile_relay(_many_events) as up:
        app = ProxyApp(up, contracts, report_dir=tmp_path, name="long")
        with serve_in_thread(app) as url:
            status, size = _download(f"{url}/v1/chat/completions", "POST", chat)
    assert status == 200 and size == 12 * 1000 * 16 + 14
    messages = {f["check_id"]: f["message"] for f in _findings(app)}
    assert messages["sse.terminator"] == "no data: [DONE] (stream ended: events)"


def test_the_forwarding_servers_follow_no_redirect() -> None:
    from relaykit.forwarding import Forwarder

    assert Forwarder("http://upstream.invalid").client.follow_redirects is False
