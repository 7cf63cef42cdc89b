"""The OpenAPI export: valid 3.1, one operation per method and path, streams as event-stream."""

from __future__ import annotations

from openapi_spec_validator import validate

from contracts.model import ContractSet
from contracts.openapi import to_openapi


def test_export_is_valid_openapi_3_1(contracts: ContractSet) -> None:
    doc = to_openapi(contracts)
    validate(doc)
    assert doc["openapi"] == "3.1.0"


def test_every_operation_is_exported_once(contracts: ContractSet) -> None:
    doc = to_openapi(contracts)
    exported = [
        i
        for item in doc["paths"].values()
        for op in item.values()
        for i in op["x-relaykit-operations"]
    ]
    assert sorted(exported) == sorted(op.id for op in contracts)


def test_chat_merges_its_operations_and_declares_the_stream(contracts: ContractSet) -> None:
    chat = to_openapi(contracts)["paths"]["/v1/chat/completions"]["post"]
    ok = chat["responses"]["200"]["content"]
    assert ok["text/event-stream"]["x-relaykit-event-schema"] == {
        "$ref": "#/components/schemas/ChatCompletionChunk"
    }
    assert ok["application/json"]["schema"] == {"$ref": "#/components/schemas/ChatCompletion"}
    assert chat["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OpenAIError"
    }
    assert chat["security"] == [{"bearer": []}]
    assert (
        "openai.chat.vision.stream.seed-000"
        in chat["requestBody"]["content"]["application/json"]["examples"]
    )


def test_shared_schemas_become_components(contracts: ContractSet) -> None:
    doc = to_openapi(contracts, server_url="http://127.0.0.1:8080")
    assert set(contracts.components) <= set(doc["components"]["schemas"])
    assert doc["servers"] == [{"url": "http://127.0.0.1:8080"}]
