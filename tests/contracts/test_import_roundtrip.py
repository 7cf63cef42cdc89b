"""The round trip: `relaykit export openapi`, then `contracts import`, then a real
`relaykit serve --contracts` on what was imported: the official openai SDK takes its answers,
and `relaykit check` with the shipped contracts finds the OpenAI core clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from contracts import default_contracts
from contracts.loader import load_contracts
from contracts.model import ContractSet
from tests.serving import relaykit_serve

KEY = "sk-relaykit-roundtrip-7"
CORE = ("openai-chat", "embeddings", "models", "openai-completions")


def relaykit(*args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "relaykit", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("roundtrip")
    exported = relaykit("export", "openapi", "-o", str(root / "openapi.json"))
    assert exported.returncode == 0, exported.stderr
    done = relaykit("contracts", "import", str(root / "openapi.json"), "-o", str(root / "out"),
                    "--quiet")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return root / "out"


@pytest.fixture(scope="module")
def served(imported: Path) -> Iterator[str]:
    # paced: a stream in one burst would fail sse.streamed
    with relaykit_serve("--contracts", str(imported), "--api-key", KEY, "--ttfe-ms", "5",
                        "--interval-ms", "5") as url:  # fmt: skip
        yield url


def test_every_operation_comes_back_with_its_mode(imported: Path, contracts: ContractSet) -> None:
    back = load_contracts([imported])
    assert sorted(op.id for op in back) == sorted(op.id for op in contracts)
    lint = json.loads((imported / "lint.json").read_text(encoding="utf-8"))
    assert set(lint["counts"]) == {"shipped-match"}  # nothing wrong, everything recognised
    for op in back:
        shipped = contracts.get(op.id)
        assert (op.method, op.path, op.match, op.priority) == (
            shipped.method, shipped.path, shipped.match, shipped.priority
        ), op.id  # fmt: skip
        assert (op.stream.when if op.stream else None) == (
            shipped.stream.when if shipped.stream else None
        ), op.id  # fmt: skip
        assert (op.stream.asked_by if op.stream else None) == (
            shipped.stream.asked_by if shipped.stream else None
        ), op.id  # fmt: skip (speech asks with stream_format: sse)
        assert op.auth == shipped.auth and op.errors.envelope == shipped.errors.envelope, op.id


def test_the_openai_sdk_takes_the_imported_mock(served: str) -> None:
    client = openai.OpenAI(base_url=f"{served}/v1", api_key=KEY, max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello."}], n=2
    )
    assert len(reply.choices) == 2 and reply.model == "gpt-4o-mini"
    assert reply.usage is not None and reply.usage.total_tokens > 0
    chunks = list(client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello."}], stream=True,
        stream_options={"include_usage": True},
    ))  # fmt: skip
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and chunks[-1].usage is not None
    vectors = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert [d.index for d in vectors.data] == [0, 1] and len(vectors.data[0].embedding) > 8
    models = client.models.list()
    assert any(m.id for m in models.data)
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{served}/v1", api_key="sk-wrong", max_retries=0).models.list()


def test_check_with_the_shipped_contracts_finds_the_core_clean(served: str, tmp_path: Path) -> None:
    only = [a for family in CORE for a in ("--only", family)]
    done = relaykit("check", "--base-url", served, *only, "--report-dir", str(tmp_path),
                    "--name", "roundtrip", env={"RELAYKIT_API_KEY": KEY})  # fmt: skip
    record = json.loads((tmp_path / "roundtrip" / "record.json").read_text(encoding="utf-8"))
    bad = [
        f"{f['operation_id']} {f['check_id']}: {f['message']}"
        for f in record["findings"]
        if f["outcome"] in ("fail", "error")
    ]
    assert bad == [], "\n".join(bad[:40])
    assert done.returncode == 0, done.stdout[-2000:]
    passed = {f["operation_id"] for f in record["findings"] if f["outcome"] == "pass"}
    core = ("openai-chat", "embeddings", "models", "openai-completions")
    assert len(passed) == sum(1 for op in default_contracts() if op.family in core)
