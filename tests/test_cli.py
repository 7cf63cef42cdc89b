"""The relaykit command as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import openai
from click.testing import CliRunner
from openapi_spec_validator import validate

from contracts.model import ContractSet
from relaykit.cli import main
from tests.serving import relaykit_serve


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_contracts_list_json(contracts: ContractSet) -> None:
    code, out, _ = run("contracts", "list", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == len(contracts)
    vision = next(r for r in rows if r["id"] == "openai.chat.vision.stream")
    assert vision["method"] == "POST" and vision["path"] == "/v1/chat/completions"
    assert {
        "file": "001_6e315ccce6191f2a.txt",
        "line": 1,
        "title": "创建聊天识图 (流式)",
    } in vision["seeds"]


def test_contracts_list_table_filters_by_family() -> None:
    code, out, err = run("contracts", "list", "--family", "embeddings")
    assert code == 0 and out.startswith("openai.embeddings") and "1 operations" in err


def test_contracts_check_reports_problems_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "demo.broken.yaml").write_text("id: demo.broken\nfamily: demo\n", encoding="utf-8")
    code, _, err = run("contracts", "check", "--contracts", str(tmp_path))
    assert code == 2
    assert "demo.broken.yaml: <root>: 'vendor' is a required property" in err
    assert "Traceback" not in err


def test_contracts_check_ok(contracts: ContractSet) -> None:
    code, out, _ = run("contracts", "check")
    assert code == 0 and out.startswith(f"ok: {len(contracts)} operations")


def test_export_openapi_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    code, _, err = run(
        "export", "openapi", "-o", str(target), "--server-url", "http://127.0.0.1:8080"
    )
    assert code == 0 and "paths" in err
    doc = json.loads(target.read_text(encoding="utf-8"))
    validate(doc)
    assert doc["servers"][0]["url"] == "http://127.0.0.1:8080"


def test_serve_with_api_keys_and_two_workers() -> None:
    with relaykit_serve("--api-key", "sk-one", "--api-key", "sk-two", "--workers", "2") as url:
        assert (
            httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer sk-three"}).status_code
            == 401
        )
        client = openai.OpenAI(
            base_url=f"{url}/v1", api_key="sk-two", _strict_response_validation=True
        )
        reply = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
        assert reply.choices[0].message.content


def test_contracts_coverage_nothing_missing() -> None:
    code, out, _ = run("contracts", "coverage")
    assert code == 0
    assert "119 of 119 catalogue operations have a contract, 119 served by the mock." in out
    code, out, _ = run("contracts", "coverage", "--json")
    assert code == 0 and json.loads(out)["complete"] is True
