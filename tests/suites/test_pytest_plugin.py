"""The pytest plugin: one item per operation and check, xdist workers merged into one record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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
