"""What `relaykit check` prints at the end: causes once each, the score, and --strict."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mockserver.background import serve_in_thread
from relaykit.cli import main
from relaykit.console import print_summary
from suites.findings import Finding, Outcome
from suites.record import OperationInfo, RunRecord

KEY = "sk-relaykit-console-4242"
WRONG_KEY = "a key the relay cannot know: answered 400, expected 401 or 403"


def summary(record: RunRecord, strict: bool = False) -> str:
    console = Console(width=300, record=True, highlight=False, color_system=None)
    with console.capture() as captured:
        print_summary(console, record, strict)
    return captured.get()


def relay_record() -> RunRecord:
    """39 operations whose wrong key got a 400, one stream without [DONE], one deviation."""
    operations = {f"op{i}": OperationInfo("openai-chat", "POST", "/v1/x") for i in range(39)}
    operations["gone"] = OperationInfo("suno", "POST", "/suno", offered="route not offered: 404")
    findings = [Finding(f"op{i}", "auth.wrong_key", Outcome.FAIL, WRONG_KEY) for i in range(39)]
    findings += [Finding(f"op{i}", "auth.no_key", Outcome.PASS, "401") for i in range(39)]
    findings += [
        Finding("op0", "sse.terminator", Outcome.FAIL, "no data: [DONE] (stream ended: eof)"),
        Finding("op1", "errors.envelope", Outcome.FAIL, "the 400 body breaks the openai envelope"),
        Finding("gone", "examples", Outcome.SKIP, "route not offered: 404"),
    ]
    return RunRecord(
        run={"name": "relay", "documented": {"openai-chat": 39, "suno": 1, "midjourney": 79}},
        operations=operations,
        findings=findings,
    )


def test_one_cause_one_line_most_operations_first_then_the_score() -> None:
    text = summary(relay_record())
    lines = text.splitlines()
    assert "41 checks failed or errored, from 3 cause(s)" in text
    causes = [line.strip() for line in lines if line.startswith("  ") and " on " in line]
    assert causes == [
        "breaks-clients auth.wrong_key on 39 operation(s) (op0, op1, op2 and 36 more): "
        + WRONG_KEY,
        "breaks-clients sse.terminator on 1 operation(s) (op0): "
        "no data: [DONE] (stream ended: eof)",
        "deviates errors.envelope on 1 operation(s) (op1): the 400 body breaks the openai envelope",
    ]
    assert "1 cause(s) only deviate: they do not fail the run (--strict counts them)." in text
    assert text.count(WRONG_KEY) == 1
    score = lines.index("Score: offered 39 of 119 operations, checked 39, conformant 0 of 39 (0%)")
    assert lines[score + 1].strip().startswith("This run checked little: 39 of 119")
    assert "only deviate" not in summary(relay_record(), strict=True)


def test_a_clean_run_lists_no_cause() -> None:
    record = relay_record()
    record.findings = [f for f in record.findings if f.outcome is not Outcome.FAIL]
    text = summary(record)
    assert "cause" not in text
    assert "Score: offered 39 of 119 operations, checked 39, conformant 39 of 39 (100%)" in text


# --- the exit code of a real run --------------------------------------------------------------

MODELS = {
    "object": "list",
    "data": [{"id": "gpt-4o-mini", "object": "model", "created": 1, "owned_by": "openai"}],
}


@pytest.fixture(scope="module")
def deviating_relay() -> Iterator[str]:
    """Lists models with the key; refuses others with a 401 in the wrong envelope (deviates)."""

    async def models(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return JSONResponse({"detail": "no"}, 401)
        return JSONResponse(MODELS)

    app = Starlette(routes=[Route("/v1/models", models, methods=["GET"])])
    with serve_in_thread(app) as url:
        yield url


def test_deviations_fail_the_run_only_with_strict(deviating_relay: str, tmp_path: Path) -> None:
    args = ["check", "--base-url", deviating_relay, "--only", "openai.models.list"]
    runner = CliRunner()
    env = {"RELAYKIT_API_KEY": KEY, "COLUMNS": "200"}
    lenient = runner.invoke(main, [*args, "--report-dir", str(tmp_path / "a")], env=env)
    record = json.loads((tmp_path / "a" / "latest" / "record.json").read_text(encoding="utf-8"))
    failed = {f["check_id"] for f in record["findings"] if f["outcome"] == "fail"}
    assert failed == {"errors.envelope"}, lenient.output
    assert [c["severity"] for c in record["causes"]] == ["deviates"]
    assert record["score"]["conformant"] == 1 and record["score"]["strict"] == 0
    assert lenient.exit_code == 0, lenient.output
    assert "deviates errors.envelope on 1 operation(s)" in lenient.output
    strict = runner.invoke(main, [*args, "--strict", "--report-dir", str(tmp_path / "b")], env=env)
    assert strict.exit_code == 1, strict.output
