"""`relaykit contracts import` on hand-made Apifox, Postman and Swagger 2 samples: the
operations, their auth, envelope and stream, the lint's findings with their places, errata
kept and never served, and --keep-shipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml
from openapi_spec_validator import validate

from contracts.importer.run import ImportResult, import_document
from contracts.loader import load_contracts
from contracts.model import ContractSet
from contracts.openapi import to_openapi
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data" / "import"


def imported(name: str, out: Path, contracts: ContractSet, **kw: Any) -> ImportResult:
    return import_document(DATA / name, out, contracts, **kw)


def findings(result: ImportResult) -> set[tuple[str, str, str]]:
    """(rule, operation id, pointer) of every finding but the shipped-match notes."""
    return {
        (f.rule, f.operation.split(" ")[0], f.pointer)
        for f in result.findings
        if f.rule != "shipped-match"
    }


def contract(out: Path, op_id: str) -> dict[str, Any]:
    (path,) = out.rglob(f"{op_id}.yaml")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def apifox(tmp_path_factory: pytest.TempPathFactory, contracts: ContractSet) -> Path:
    out = tmp_path_factory.mktemp("apifox")
    imported("relay-apifox.json", out, contracts)
    return out


def test_apifox_operations_and_what_they_are(apifox: Path) -> None:
    ops = {op.id: op for op in load_contracts([apifox])}
    assert {(i, op.method, op.path) for i, op in ops.items()} == {
        ("chat.create_chat_completion", "POST", "/v1/chat/completions"),
        ("embeddings.create_embedding", "POST", "/v1/embeddings"),
        ("midjourney.submit_imagine", "POST", "/mj/submit/imagine"),
        ("midjourney.submit_imagine_2", "GET", "/mj/task/{id}/fetch"),
    }
    chat = ops["chat.create_chat_completion"]
    assert chat.auth == ("bearer",) and chat.errors.envelope == "openai"
    assert chat.stream is not None and chat.stream.when == "requested"
    assert chat.response.render == "chat.completion"  # the shipped contract's behaviour
    assert chat.stream.render == "chat.completion.chunk" and chat.stream.terminator == "[DONE]"
    imagine = ops["midjourney.submit_imagine"]
    assert imagine.auth == ("mj-api-secret",) and imagine.errors.envelope == "mj"
    assert [e.status for e in imagine.errors.documented] == [400]
    assert ops["midjourney.submit_imagine_2"].path_params["id"]["examples"] == ["1730000000000001"]


def test_apifox_lint_names_each_mistake_and_its_place(
    tmp_path: Path, contracts: ContractSet
) -> None:
    result = imported("relay-apifox.json", tmp_path, contracts)
    assert findings(result) == {
        ("unresolved-ref", "midjourney.submit_imagine",
         "/schemaCollection/0/items/5/schema/jsonSchema/properties/imageUrl/$ref"),
        ("duplicate-id", "midjourney.submit_imagine",
         "/apiCollection/0/items/2/items/1/api/operationId"),
        ("stream-json-answer", "chat.create_chat_completion",
         "/apiCollection/0/items/0/items/1/api/responseExamples/0/data"),
        ("example-schema", "embeddings.create_embedding",
         "/apiCollection/0/items/1/items/0/api/responseExamples/0/data"),
        ("path-mismatch", "embeddings.create_embedding",
         "/apiCollection/0/items/1/items/0/api/description"),
        ("example-required", "midjourney.submit_imagine",
         "/apiCollection/0/items/2/items/0/api/requestBody/example"),
    }  # fmt: skip
    by_rule = {f.rule: f for f in result.findings}
    assert by_rule["unresolved-ref"].line == 544 and "#/definitions/9999" in (
        by_rule["unresolved-ref"].message
    )
    assert "/v1/embedding " in by_rule["path-mismatch"].message
    lint = json.loads((tmp_path / "lint.json").read_text(encoding="utf-8"))
    assert lint["counts"]["shipped-match"] == 4 and len(lint["findings"]) == 10
    text = (tmp_path / "LINT.md").read_text(encoding="utf-8")
    assert "| L1 | unresolved-ref | error |" in text


def test_a_faulty_example_is_kept_as_an_erratum_and_never_served(
    apifox: Path, contracts: ContractSet
) -> None:
    data = contract(apifox, "embeddings.create_embedding")
    (bad,) = [e for e in data["response"]["examples"] if "erratum" in e]
    assert bad["value"]["data"] == "[0.0023, -0.0091]"
    (erratum,) = data["errata"]
    assert erratum["ref"] == bad["erratum"] and "breaks its schema" in erratum["seed_says"]
    imported_set = load_contracts([apifox])
    op = imported_set.get("embeddings.create_embedding")
    assert op.example() is not None and op.example().erratum == ""  # a made one is served
    with serve_in_thread(create_app(imported_set, MockConfig(ttfe=0, interval=0))) as url:
        body = {"model": "text-embedding-3-small", "input": "hi"}
        auth = {"Authorization": "Bearer sk-x"}
        ok = httpx.post(f"{url}/v1/embeddings", json=body, headers=auth)
        refused = httpx.post(f"{url}/v1/embeddings", json=body,
                             headers={**auth, "Prefer": f"example={bad['name']}"})  # fmt: skip
    assert ok.status_code == 200 and isinstance(ok.json()["data"], list)
    assert refused.status_code == 400 and "No example named" in refused.text


def test_postman_collection(tmp_path: Path, contracts: ContractSet) -> None:
    result = imported("relay-postman.json", tmp_path, contracts)
    ops = {op.id: op for op in load_contracts([tmp_path])}
    assert {(i, op.method, op.path, op.auth) for i, op in ops.items()} == {
        ("chat.chat_completion", "POST", "/v1/chat/completions", ("bearer",)),
        ("models.list_models", "GET", "/v1/models", ("bearer",)),
        ("midjourney.fetch_task", "GET", "/mj/task/{id}/fetch", ("mj-api-secret",)),
    }
    assert findings(result) == {
        ("stream-json-answer", "chat.chat_completion", "/item/0/item/1/response/0/body"),
        ("path-mismatch", "models.list_models", "/item/1/item/0/response/0/originalRequest/url"),
    }
    chat = ops["chat.chat_completion"]
    assert chat.stream is not None and chat.stream.framing == "sse-data"
    streamed = [e.name for e in chat.stream.examples if e.servable]
    assert streamed == ["streamed"]
    with serve_in_thread(create_app(load_contracts([tmp_path]), MockConfig(ttfe=0, interval=0))
                         ) as url:  # fmt: skip
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-x", max_retries=0)
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}]
        )
        chunks = list(client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}], stream=True
        ))  # fmt: skip
        models = client.models.list()
    assert reply.choices[0].message.content == "Hello! How can I help?"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello!"
    assert [m.id for m in models.data] == ["gpt-4o-mini"]


def test_swagger_2_document(tmp_path: Path, contracts: ContractSet) -> None:
    result = imported("relay-swagger.yaml", tmp_path, contracts)
    ops = {op.id: op for op in load_contracts([tmp_path])}
    assert {(i, op.method, op.path) for i, op in ops.items()} == {
        ("embeddings.create_embedding", "POST", "/v1/embeddings"),
        ("models.list_models", "GET", "/v1/models"),
        ("audio.create_transcription", "POST", "/v1/audio/transcriptions"),
    }
    assert findings(result) == set()
    embeddings = ops["embeddings.create_embedding"]
    assert embeddings.request.examples[0].value == {
        "model": "text-embedding-3-small", "input": "hello"
    }  # fmt: skip
    # the shipped contract also answers base64 strings, which this document's schema does not
    # allow: the mock serves the document's own example rather than the shipped behaviour
    assert embeddings.response.render == "static" and embeddings.errors.envelope == "openai"
    upload = ops["audio.create_transcription"]
    assert upload.request.content_type == "multipart/form-data"
    assert upload.request.examples[0].value["file"] == "<binary audio/mpeg>"
    assert upload.response.schema["properties"]["duration"]["type"] == ["number", "null"]
    models = ops["models.list_models"]
    assert models.response.examples[0].value["data"][0]["id"] == "gpt-4o-mini"


def test_keep_shipped_writes_the_shipped_contracts(tmp_path: Path, contracts: ContractSet) -> None:
    result = imported("relay-swagger.yaml", tmp_path, contracts, keep_shipped=True)
    assert sorted(result.kept_shipped) == [
        "openai.audio.transcriptions", "openai.embeddings", "openai.models.list"
    ]  # fmt: skip
    loaded = load_contracts([tmp_path])
    assert sorted(op.id for op in loaded) == sorted(result.kept_shipped)
    assert loaded.get("openai.embeddings").provenance.seeds  # the shipped file, as it is


def test_a_second_import_replaces_the_first(tmp_path: Path, contracts: ContractSet) -> None:
    imported("relay-postman.json", tmp_path, contracts)
    imported("relay-swagger.yaml", tmp_path, contracts)
    assert len(load_contracts([tmp_path])) == 3
    assert not (tmp_path / "chat").exists() or not list((tmp_path / "chat").rglob("*.yaml"))


def test_an_imported_directory_exports_as_valid_openapi(apifox: Path) -> None:
    doc = to_openapi(load_contracts([apifox]))
    validate(doc)
    chat = doc["paths"]["/v1/chat/completions"]["post"]
    assert chat["operationId"] == "chat.create_chat_completion"
    assert "text/event-stream" in chat["responses"]["200"]["content"]
