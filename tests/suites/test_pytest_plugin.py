"""The pytest plugin: one item per operation and check, xdist workers merged into one record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.model import ContractSet
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread

KEY = "sk-relaykit-plugin-secret-777777"
ONLY = ["openai.models.list", "openai.embeddings", "openai.chat.completions.stream"]


@pytest.fixture(scope="module")
def relay(contracts: ContractSet) -> Iterator[str]:
    config = MockConfig(api_keys=frozenset({KEY}), ttfe=0.002, interval=0.01)
    with serve_in_thread(create_app(contracts, config)) as url:
        yield url


def run_pytest(relay: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    only = [arg for op in ONLY for arg in ("--relaykit-only", op)]
    return subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
            "--relaykit-base-url", relay, *only,
            "--relaykit-report-dir", str(tmp_path / "reports"), "--relaykit-run-name", "plugin",
            *extra,
        ],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "RELAYKIT_API_KEY": KEY},
    )  # fmt: skip


def test_one_item_per_operation_and_check(relay: str, tmp_path: Path) -> None:
    done = run_pytest(relay, tmp_path, "--collect-only")
    items = [line for line in done.stdout.splitlines() if "relaykit[" in line]
    assert any("relaykit[openai.embeddings:negative]" in line for line in items), done.stdout
    assert {line.split("[")[1].split(":")[0] for line in items} == set(ONLY)


def test_xdist_workers_write_one_merged_record(relay: str, tmp_path: Path) -> None:
    done = run_pytest(relay, tmp_path, "-n", "2", "--dist", "loadgroup")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    record_path = tmp_path / "reports" / "plugin" / "record.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    assert set(record["operations"]) == set(ONLY)
    checks = {(f["operation_id"], f["check_id"]) for f in record["findings"]}
    assert ("openai.chat.completions.stream", "sse.terminator") in checks
    assert ("openai.embeddings", "auth.wrong_key") in checks
    assert record["summary"]["fail"] == 0 and record["summary"]["pass"] > 10
    assert record["spent"]["requests"] > 0
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(encoding="utf-8", errors="replace")


def test_a_broken_relay_fails_the_item(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "--relaykit-base-url", "http://127.0.0.1:9", "--relaykit-only", "openai.models.list",
         "--relaykit-report-dir", str(tmp_path / "r")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "RELAYKIT_API_KEY": KEY},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "error response.status" in done.stdout and "no answer" in done.stdout


def test_without_the_option_the_plugin_adds_nothing(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--collect-only"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert "relaykit[" not in done.stdout and "1 test collected" in done.stdout


def test_a_relay_without_its_key_is_refused_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RELAYKIT_API_KEY"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "--relaykit-base-url", "http://127.0.0.1:9", "--relaykit-only", "openai.models.list"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "set the relay's key in $RELAYKIT_API_KEY" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def partial_relay(contracts: ContractSet) -> Iterator[str]:
    """The mock, except that it has no /v1/embeddings route (answered as any unknown path)."""
    config = MockConfig(api_keys=frozenset({KEY}), ttfe=0.002, interval=0.01)
    mock = create_app(contracts, config)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/embeddings":
            scope = {**scope, "path": "/v1/relaykit-gone", "raw_path": b"/v1/relaykit-gone"}
        await mock(scope, receive, send)

    with serve_in_thread(app) as url:
        yield url


def test_the_plugin_and_check_agree_on_what_a_relay_offers(
    partial_relay: str, tmp_path: Path
) -> None:
    """Both front-ends ask discovery first (the plugin's controller once, for its workers), so
    an operation the relay does not offer is skipped as such by both, with the same verdicts."""
    done = run_pytest(partial_relay, tmp_path, "-n", "2", "--dist", "loadgroup")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "route not offered" in done.stdout
    plugin = json.loads((tmp_path / "reports" / "plugin" / "record.json").read_text("utf-8"))
    assert plugin["run"]["runner"] == "pytest"
    assert plugin["discovery"]["routes"]["POST /v1/embeddings"]["offered"] is False
    assert plugin["spent"]["requests"] >= plugin["discovery"]["requests"] > 0
    only = [arg for op in ONLY for arg in ("--only", op)]
    subprocess.run(
        [sys.executable, "-m", "relaykit", "check", "--base-url", partial_relay, *only,
         "--report-dir", str(tmp_path / "reports"), "--name", "check"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "RELAYKIT_API_KEY": KEY},
    )  # fmt: skip
    check = json.loads((tmp_path / "reports" / "check" / "record.json").read_text("utf-8"))

    def verdicts(record: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
        out: dict[tuple[str, str], set[str]] = {}
        for f in record["findings"]:
            out.setdefault((f["operation_id"], f["check_id"]), set()).add(f["outcome"])
        return out

    assert verdicts(plugin) == verdicts(check)
    embeddings = [v for (op, _), v in verdicts(plugin).items() if op == "openai.embeddings"]
    assert embeddings and all(v == {"skip"} for v in embeddings)
    assert any("pass" in v for (op, _), v in verdicts(plugin).items() if op != "openai.embeddings")
