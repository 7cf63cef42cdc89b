"""The validating proxy: silent in front of the clean mock, loud in front of a broken relay."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from contracts.model import ContractSet
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread
from relaykit.proxy import VIOLATIONS_HEADER, ProxyApp
from relaykit.proxy_cli import proxy
from tests.suites.broken_relay import Breakage, BrokenRelay

KEY = "sk-relaykit-proxy-secret-5d1e2b"
HEADERS = {"Authorization": f"Bearer {KEY}", "mj-api-secret": KEY}


@pytest.fixture(scope="module")
def paced_mock(contracts: ContractSet) -> Iterator[str]:
    """A mock whose streams are spread out in time, as a real relay's are."""
    with serve_in_thread(create_app(contracts, MockConfig(ttfe=0.005, interval=0.005))) as url:
        yield url


def _example(contracts: ContractSet, op_id: str, name: str | None = None) -> Any:
    examples = contracts.get(op_id).request.examples
    return next(e.value for e in examples if name is None or e.name == name)


def _findings(run_dir: Path) -> list[dict[str, Any]]:
    record = json.loads((run_dir / "record.json").read_text(encoding="utf-8"))
    return list(record["findings"])


def test_the_clean_mock_flags_nothing(
    contracts: ContractSet, paced_mock: str, tmp_path: Path
) -> None:
    app = ProxyApp(paced_mock, contracts, report_dir=tmp_path, name="clean")
    chat = _example(contracts, "openai.chat.completions.nonstream")
    stream = _example(contracts, "openai.chat.completions.stream")
    with serve_in_thread(app) as url, httpx.Client(base_url=url, headers=HEADERS) as c:
        answers = [
            c.post("/v1/chat/completions", json=chat),
            c.post("/v1/chat/completions", json=stream),
            c.post("/v1/embeddings", json=_example(contracts, "openai.embeddings", "strings")),
            c.get("/v1/models"),
        ]
        submit = c.post("/mj/submit/imagine", json=_example(contracts, "mj.submit.imagine", "text"))
        answers += [submit, c.get(f"/mj/task/{submit.json()['result']}/fetch")]
    assert [a.status_code for a in answers] == [200] * 6
    assert [a.headers.get(VIOLATIONS_HEADER) for a in answers] == [None] * 6
    assert answers[1].text.rstrip().endswith("data: [DONE]")
    run_dir = asyncio.run(app.flush())
    assert run_dir is not None
    findings = _findings(run_dir)
    assert {f["source"] for f in findings} == {f"proxy#{n}" for n in range(1, 7)}
    assert {f["check_id"] for f in findings} >= {
        "request.schema",
        "response.schema",
        "sse.terminator",
    }
    bad = [f for f in findings if f["outcome"] in ("fail", "error")]
    assert bad == []
    for path in run_dir.iterdir():
        assert KEY not in path.read_text(encoding="utf-8"), path.name


def _no_choices(path: str, status: int, body: Any) -> Any:
    if path.endswith("/chat/completions") and isinstance(body, dict):
        body.pop("choices", None)
    return body


def _no_done(path: str, block: str) -> list[str] | None:
    return [] if block.strip() == "data: [DONE]" else None


def test_a_broken_relay_is_flagged_in_the_header_and_the_record(
    contracts: ContractSet, paced_mock: str, tmp_path: Path
) -> None:
    broken = BrokenRelay(paced_mock, Breakage(body=_no_choices, event=_no_done))
    chat = _example(contracts, "openai.chat.completions.nonstream")
    stream = _example(contracts, "openai.chat.completions.stream")
    with serve_in_thread(broken) as relay:
        app = ProxyApp(relay, contracts, report_dir=tmp_path, name="broken")
        with serve_in_thread(app) as url, httpx.Client(base_url=url, headers=HEADERS) as c:
            plain = c.post("/v1/chat/completions", json=chat)
            streamed = c.post("/v1/chat/completions", json=stream)
    assert plain.status_code == 200 and "choices" not in plain.json()
    assert "response.schema" in plain.headers[VIOLATIONS_HEADER].split(", ")
    # a stream's own violations cannot be in its headers: they are in the record
    assert VIOLATIONS_HEADER not in streamed.headers
    run_dir = asyncio.run(app.flush())
    assert run_dir is not None
    failed = {(f["source"], f["check_id"]) for f in _findings(run_dir) if f["outcome"] == "fail"}
    assert ("proxy#1", "response.schema") in failed
    assert ("proxy#2", "sse.terminator") in failed
    terminator = next(f for f in _findings(run_dir) if f["check_id"] == "sse.terminator")
    assert (
        terminator["events"] and terminator["request"]["headers"]["authorization"] == "[REDACTED]"
    )


def test_request_violations_and_unknown_paths(
    contracts: ContractSet, paced_mock: str, tmp_path: Path
) -> None:
    app = ProxyApp(paced_mock, contracts, report_dir=tmp_path)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, headers=HEADERS) as c:
        bad = c.post("/v1/chat/completions", json={"model": "gpt-4o"})
        unknown = c.get("/not/a/contract")
    assert bad.status_code == 400
    assert bad.headers[VIOLATIONS_HEADER] == "request.schema"  # the 400 itself is fine
    assert unknown.status_code == 404 and VIOLATIONS_HEADER not in unknown.headers
    assert app.unmatched == 1 and app.exchanges == 2
    outcomes = {f.check_id: f.outcome.value for f in app.findings}
    assert outcomes["response.status"] == "pass" and outcomes["errors.envelope"] == "pass"


def test_every_n_exchanges_rewrites_one_run_dir(
    contracts: ContractSet, paced_mock: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = ProxyApp(paced_mock, contracts, report_dir=tmp_path, name="live", every=1)
    with (
        caplog.at_level("INFO", logger="relaykit.proxy"),
        serve_in_thread(app) as url,
        httpx.Client(base_url=url, headers=HEADERS) as c,
    ):
        c.get("/v1/models")
        c.get("/v1/models")
    # the server waited for both handlers: each wrote the record, into the same directory
    written = [r.getMessage() for r in caplog.records if "written to" in r.getMessage()]
    assert len(written) == 2 and all(m.endswith(str(tmp_path / "live")) for m in written)
    record = json.loads((tmp_path / "live" / "record.json").read_text(encoding="utf-8"))
    assert record["run"]["exchanges"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "live"]


def test_an_unreachable_upstream_is_a_502_and_an_error_finding(
    contracts: ContractSet, tmp_path: Path
) -> None:
    app = ProxyApp("http://127.0.0.1:9", contracts)
    with serve_in_thread(app) as url:
        r = httpx.get(f"{url}/v1/models", headers=HEADERS)
    assert r.status_code == 502
    assert [(f.check_id, f.outcome.value) for f in app.findings][-1] == ("response.status", "error")


def test_the_proxy_command_serves_a_proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: served.update(app=app, **kw))
    args = ["--upstream", "http://relay.example", "--port", "9124", "--report-dir", str(tmp_path)]
    result = CliRunner().invoke(proxy, [*args, "--name", "n", "--every", "5"])
    assert result.exit_code == 0, result.output
    app = served["app"]
    assert isinstance(app, ProxyApp) and served["port"] == 9124
    assert (app.report_dir, app.name, app.every) == (tmp_path, "n", 5)
    bad = CliRunner().invoke(proxy, ["--upstream", "relay.example"])
    assert bad.exit_code == 2


def test_a_path_with_encoded_control_characters_is_forwarded_as_sent(
    contracts: ContractSet, paced_mock: str, tmp_path: Path
) -> None:
    """Schemathesis sends task ids like ``%1B%C3%A6``: forwarded still encoded, never a 500."""
    app = ProxyApp(paced_mock, contracts, report_dir=tmp_path, name="odd")
    with serve_in_thread(app) as url, httpx.Client(base_url=url, headers=HEADERS) as c:
        answer = c.get("/mj/task/%1B%C3%A6/fetch")
    assert answer.status_code == 404 and answer.json()["code"] == 4
