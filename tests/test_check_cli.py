"""`relaykit check` as a user runs it: the embedded mock conforms, dry runs send nothing,
keys stay out of argv and out of everything written, profiles are validated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mockserver.background import serve_in_thread

KEY = "sk-relaykit-cli-secret-4242424242"
HITS: list[str] = []


def relaykit(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "relaykit", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def counting_relay() -> Iterator[str]:
    async def anything(request: Request) -> JSONResponse:
        HITS.append(request.url.path)
        return JSONResponse({"error": {"message": "no"}}, 404)

    app = Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST"])])
    with serve_in_thread(app) as url:
        yield url


def test_dry_run_prints_the_plan_and_sends_nothing(counting_relay: str, tmp_path: Path) -> None:
    HITS.clear()
    done = relaykit(
        "check", "--base-url", counting_relay, "--dry-run", "--no-discovery",
        "--only", "openai-chat", env={"RELAYKIT_API_KEY": KEY}, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "openai.chat.completions.stream" in done.stdout and "checks would run" in done.stdout
    assert HITS == []
    assert not (tmp_path / "reports").exists()


def test_a_dry_run_sends_only_discovery(counting_relay: str, tmp_path: Path) -> None:
    """Discovery asks for the model list and probes each route once, with an empty body: free
    requests that show what the relay offers (here: nothing, every path is a 404)."""
    HITS.clear()
    done = relaykit(
        "check", "--base-url", counting_relay, "--dry-run", "--only", "openai-chat",
        env={"RELAYKIT_API_KEY": KEY}, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Discovery (" in done.stdout and "route not offered" in done.stdout
    routes = {"/v1/chat/completions"}  # every openai-chat operation lives on one route
    probed = [h for h in HITS if not h.startswith("/v1/relaykit-no-such-route-")]
    assert sorted(probed) == sorted(["/v1/models", *routes]), HITS
    assert not (tmp_path / "reports").exists()


def test_a_relay_url_without_a_key_is_refused_in_one_line(counting_relay: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RELAYKIT_API_KEY"}
    done = subprocess.run(
        [sys.executable, "-m", "relaykit", "check", "--base-url", counting_relay],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "RELAYKIT_API_KEY" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_profile_names_the_file_and_field(tmp_path: Path) -> None:
    profile = tmp_path / "relay.yaml"
    profile.write_text("budget: {requests: many}\n", encoding="utf-8")
    done = relaykit("check", "--profile", str(profile), "--dry-run")
    assert done.returncode == 2
    assert "relay.yaml: budget.requests" in done.stderr and "Traceback" not in done.stderr


def test_an_unsupported_relay_is_skipped_not_failed(counting_relay: str, tmp_path: Path) -> None:
    done = relaykit(
        "check", "--base-url", counting_relay, "--only", "openai.models.list",
        "--report-dir", str(tmp_path), env={"RELAYKIT_API_KEY": KEY},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads((tmp_path / "latest" / "record.json").read_text(encoding="utf-8"))
    assert record["summary"]["fail"] == 0 and record["summary"]["pass"] == 0
    assert all(f["message"].startswith("route not offered") for f in record["findings"])
    assert record["operations"]["openai.models.list"]["offered"].startswith("route not offered")


def test_check_against_the_embedded_mock_conforms(tmp_path: Path) -> None:
    """The README's main command: every operation has a check that ran; nothing fails."""
    done = relaykit(
        "check", "--report-dir", str(tmp_path), "--name", "embedded",
        env={"RELAYKIT_API_KEY": KEY},
    )  # fmt: skip
    run_dir = tmp_path / "embedded"
    record = json.loads((run_dir / "record.json").read_text(encoding="utf-8"))
    bad = [
        f"{f['operation_id']} {f['check_id']}: {f['message']}"
        for f in record["findings"]
        if f["outcome"] in ("fail", "error")
    ]
    assert bad == [], "\n".join(bad[:40])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    passed = {f["operation_id"] for f in record["findings"] if f["outcome"] == "pass"}
    assert passed == set(record["operations"]) and len(passed) >= 119
    assert "Summary" in done.stdout
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(encoding="utf-8", errors="replace"), path


def test_a_run_that_would_leak_a_key_is_not_written(tmp_path: Path) -> None:
    from unittest import mock

    from click.testing import CliRunner

    from relaykit.cli import main

    with mock.patch("reports.rundir._leaks", return_value=True):
        result = CliRunner().invoke(
            main,
            ["check", "--only", "openai.models.list", "--report-dir", str(tmp_path)],
            env={"RELAYKIT_API_KEY": KEY},
        )
    assert result.exit_code == 2 and "the run was not written" in result.output
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def _no_done(path: str, block: str) -> list[str]:
    return [] if block.strip() == "data: [DONE]" else [block]


def test_no_profile_checks_the_chat_core_first(tmp_path: Path) -> None:
    """With the default budget and nothing but a URL, the chat stream is among the first
    checks: a relay that drops ``data: [DONE]`` fails the run (the free negatives of 119
    operations once used the whole request budget first, and such a run exited 0)."""
    from contracts import default_contracts
    from mockserver import MockConfig, create_app
    from tests.suites.broken_relay import GOOD_KEY, Breakage, BrokenRelay

    mock = create_app(
        default_contracts(), MockConfig(api_keys=frozenset({GOOD_KEY}), ttfe=0, interval=0)
    )
    with (
        serve_in_thread(mock) as upstream,
        serve_in_thread(BrokenRelay(upstream, Breakage(event=_no_done))) as url,
    ):
        done = relaykit(
            "check", "--base-url", url, "--report-dir", str(tmp_path), "--name", "nodone",
            env={"RELAYKIT_API_KEY": GOOD_KEY},
        )  # fmt: skip
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    record = json.loads((tmp_path / "nodone" / "record.json").read_text(encoding="utf-8"))
    verdicts = {(f["operation_id"], f["check_id"]): f["outcome"] for f in record["findings"]}
    assert verdicts[("openai.chat.completions.stream", "sse.terminator")] == "fail"
    assert record["spent"]["tokens"] > 0
    assert "Traceback" not in done.stderr
