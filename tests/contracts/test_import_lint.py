"""Each lint rule fires on a document that has its mistake and stays quiet on one without."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from contracts.importer.run import draft_document
from contracts.importer.sources import Source
from contracts.model import ContractSet

THING = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "stream": {"type": "boolean"}},
}
CURL = 'curl https://relay.example/v1/things -d \'{"name": "a"}\''
OUT = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}


def document() -> dict[str, Any]:
    """A clean OpenAPI 3.1 document: one operation, schemas in components, examples that fit."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "lint", "version": "1"},
        "paths": {
            "/v1/things": {
                "post": {
                    "operationId": "createThing",
                    "requestBody": {"content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Thing"},
                        "examples": {"plain": {"value": {"name": "a"}}}}}},
                    "responses": {"200": {"description": "OK", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Out"},
                        "examples": {"plain": {"value": {"id": "t1"}}}}}}},
                    "x-codeSamples": [{"lang": "curl", "source": CURL}],
                }
            }
        },
        "components": {"schemas": {"Thing": THING, "Out": OUT}},
    }  # fmt: skip


def rules(doc: dict[str, Any], contracts: ContractSet) -> dict[str, list[str]]:
    """The rules that fired, each with the pointers it names."""
    source = Source("doc.json", json.dumps(doc), doc, "openapi", doc["openapi"])
    found, _ = draft_document(source, contracts)
    out: dict[str, list[str]] = {}
    for f in found.findings:
        if f.severity != "note":
            out.setdefault(f.rule, []).append(f.pointer)
    return out


OP = ("paths", "/v1/things", "post")


def at(doc: dict[str, Any], *keys: str) -> Any:
    node = doc
    for key in keys:
        node = node[key]
    return node


def response_examples(doc: dict[str, Any]) -> dict[str, Any]:
    media = at(doc, *OP, "responses", "200", "content", "application/json")
    examples: dict[str, Any] = media["examples"]
    return examples


def request_examples(doc: dict[str, Any]) -> dict[str, Any]:
    examples: dict[str, Any] = at(doc, *OP, "requestBody", "content", "application/json")[
        "examples"
    ]
    return examples


def test_a_clean_document_has_no_findings(contracts: ContractSet) -> None:
    assert rules(document(), contracts) == {}


def test_example_schema(contracts: ContractSet) -> None:
    doc = document()
    response_examples(doc)["plain"]["value"] = {"id": 7}
    assert rules(doc, contracts) == {
        "example-schema": [
            "/paths/~1v1~1things/post/responses/200/content/application~1json/examples/plain/value"
        ]
    }


def test_example_schema_in_a_schema_example(contracts: ContractSet) -> None:
    doc = document()
    doc["components"]["schemas"]["Out"] = {**OUT, "properties": {
        "id": {"type": "string", "examples": [42]}}}  # fmt: skip
    assert rules(doc, contracts) == {
        "example-schema": ["/components/schemas/Out/properties/id/examples"]
    }


def test_example_required(contracts: ContractSet) -> None:
    doc = document()
    request_examples(doc)["plain"]["value"] = {}
    found = rules(doc, contracts)
    assert list(found) == ["example-required"]
    assert found["example-required"][0].endswith("/requestBody/content/application~1json"
                                                  "/examples/plain/value")  # fmt: skip


def test_stream_json_answer(contracts: ContractSet) -> None:
    doc = document()
    request_examples(doc)["plain"]["value"] = {"name": "a", "stream": True}
    assert list(rules(doc, contracts)) == ["stream-json-answer"]
    quiet = copy.deepcopy(doc)  # the same request answered by a documented stream
    at(quiet, *OP, "responses", "200", "content")["text/event-stream"] = {
        "schema": {"$ref": "#/components/schemas/Out"},
        "examples": {"plain": {"value": 'data: {"id": "t1"}\n\ndata: [DONE]\n\n'}},
    }
    del response_examples(quiet)["plain"]
    assert rules(quiet, contracts) == {}


def test_path_mismatch(contracts: ContractSet) -> None:
    doc = document()
    at(doc, *OP)["x-codeSamples"][0]["source"] = "curl https://relay.example/v1/thing"
    assert rules(doc, contracts) == {
        "path-mismatch": ["/paths/~1v1~1things/post/x-codeSamples/0/source"]
    }


def test_duplicate_id(contracts: ContractSet) -> None:
    doc = document()
    doc["paths"]["/v1/others"] = {"post": copy.deepcopy(at(doc, *OP))}
    del doc["paths"]["/v1/others"]["post"]["x-codeSamples"]
    assert rules(doc, contracts) == {"duplicate-id": ["/paths/~1v1~1others/post/operationId"]}
    doc["paths"]["/v1/others"]["post"]["operationId"] = "createOther"
    assert rules(doc, contracts) == {}


def test_duplicate_route_and_query_in_path(contracts: ContractSet) -> None:
    doc = document()
    doc["paths"]["/v1/things?beta=true"] = {"post": copy.deepcopy(at(doc, *OP))}
    doc["paths"]["/v1/things?beta=true"]["post"]["operationId"] = "createBetaThing"
    assert rules(doc, contracts) == {
        "query-in-path": ["/paths/~1v1~1things?beta=true"],
        "duplicate-route": ["/paths/~1v1~1things?beta=true/post"],
    }


def test_unresolved_ref(contracts: ContractSet) -> None:
    doc = document()
    doc["components"]["schemas"]["Out"] = {**OUT, "properties": {
        "id": {"$ref": "#/components/schemas/Nowhere"}}}  # fmt: skip
    assert rules(doc, contracts) == {
        "unresolved-ref": ["/components/schemas/Out/properties/id/$ref"]
    }


def test_invalid_schema(contracts: ContractSet) -> None:
    doc = document()
    doc["components"]["schemas"]["Out"] = {**OUT, "required": "id"}
    assert list(rules(doc, contracts)) == ["invalid-schema"]


def test_schema_dialect(contracts: ContractSet) -> None:
    doc = document()
    doc["components"]["schemas"]["Out"] = {**OUT, "properties": {
        "id": {"type": "string", "nullable": True}}}  # fmt: skip
    assert rules(doc, contracts) == {"schema-dialect": ["/components/schemas/Out/properties/id"]}
    doc["openapi"] = "3.0.3"  # where nullable is right
    assert rules(doc, contracts) == {}


def test_oneof_overlap(contracts: ContractSet) -> None:
    doc = document()
    del response_examples(doc)["plain"]
    doc["components"]["schemas"]["Out"] = {"oneOf": [OUT, {**OUT, "properties": {
        **OUT["properties"], "extra": {"type": "string"}}}]}  # fmt: skip
    assert list(rules(doc, contracts)) == ["oneof-overlap"]
    doc["components"]["schemas"]["Out"] = {"oneOf": [OUT, {"type": "string"}]}
    assert rules(doc, contracts) == {}


@pytest.mark.parametrize("rule", ["unresolved-ref", "example-schema"])
def test_a_finding_names_every_operation_it_touches(rule: str, contracts: ContractSet) -> None:
    doc = document()
    doc["paths"]["/v1/others"] = {"post": copy.deepcopy(at(doc, *OP))}
    doc["paths"]["/v1/others"]["post"]["operationId"] = "createOther"
    del doc["paths"]["/v1/others"]["post"]["x-codeSamples"]
    prop = {"$ref": "#/components/schemas/Nowhere"} if rule == "unresolved-ref" else {
        "type": "string", "examples": [1]}  # fmt: skip
    doc["components"]["schemas"]["Out"] = {**OUT, "properties": {"id": prop}}
    source = Source("doc.json", json.dumps(doc), doc, "openapi", "3.1.0")
    found, _ = draft_document(source, contracts)
    (finding,) = [f for f in found.findings if f.rule == rule]
    assert finding.operation == "things.create_thing (POST /v1/things) and 1 more"
