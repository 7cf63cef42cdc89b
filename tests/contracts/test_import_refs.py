"""`$ref`s of an imported document: other files beside it are read, the network never is,
recursion is cut where it recurs, and 3.0 keywords are read in 2020-12 terms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.importer.run import import_document
from contracts.loader import load_contracts
from contracts.model import ContractSet


def write_doc(tmp_path: Path, out_schema: Any, version: str = "3.1.0") -> Path:
    doc = {
        "openapi": version,
        "info": {"title": "refs", "version": "1"},
        "paths": {"/v1/trees": {"get": {"operationId": "getTree", "responses": {"200": {
            "description": "OK",
            "content": {"application/json": {"schema": out_schema}}}}}}},
        "components": {"schemas": {"Node": {
            "type": "object", "required": ["name"],
            "properties": {"name": {"type": "string"},
                           "children": {"type": "array",
                                        "items": {"$ref": "#/components/schemas/Node"}}}}}},
    }  # fmt: skip
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def rules(result: Any) -> dict[str, list[str]]:
    """The findings by rule, but the notes that the document documents no auth or errors."""
    out: dict[str, list[str]] = {}
    for f in result.findings:
        if f.rule not in ("auth", "envelope"):
            out.setdefault(f.rule, []).append(f.message)
    return out


def test_a_file_beside_the_document_is_read(tmp_path: Path, contracts: ContractSet) -> None:
    (tmp_path / "common.yaml").write_text(
        "Tree:\n  type: object\n  required: [name]\n  properties:\n    name: {type: string}\n",
        encoding="utf-8",
    )
    source = write_doc(tmp_path, {"$ref": "common.yaml#/Tree"})
    result = import_document(source, tmp_path / "out", contracts)
    assert "unresolved-ref" not in rules(result)
    op = load_contracts([tmp_path / "out"]).get("trees.get_tree")
    assert op.response.schema["required"] == ["name"]
    assert op.response.examples[0].value == {"name": "string"}  # made from the schema


def test_missing_files_and_urls_do_not_resolve(tmp_path: Path, contracts: ContractSet) -> None:
    source = write_doc(tmp_path, {"type": "object", "properties": {
        "a": {"$ref": "missing.yaml#/X"},
        "b": {"$ref": "https://example.com/x.json#/Y"},
    }})  # fmt: skip
    result = import_document(source, tmp_path / "out", contracts)
    messages = rules(result)["unresolved-ref"]
    assert len(messages) == 2 and any("https://example.com/x.json" in m for m in messages)
    op = load_contracts([tmp_path / "out"]).get("trees.get_tree")
    assert op.response.schema["properties"] == {"a": {}, "b": {}}  # anything, and said so


def test_recursion_is_cut_where_it_recurs(tmp_path: Path, contracts: ContractSet) -> None:
    source = write_doc(tmp_path, {"$ref": "#/components/schemas/Node"})
    result = import_document(source, tmp_path / "out", contracts)
    assert list(rules(result)) == ["recursive-ref"]
    op = load_contracts([tmp_path / "out"]).get("trees.get_tree")
    items = op.response.schema["properties"]["children"]["items"]
    assert items == {"description": "recursive reference #/components/schemas/Node (not followed)"}


def test_openapi_3_0_keywords(tmp_path: Path, contracts: ContractSet) -> None:
    source = write_doc(tmp_path, {"type": "object", "required": ["n"], "properties": {
        "n": {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "nullable": True,
              "example": 3}}}, version="3.0.3")  # fmt: skip
    result = import_document(source, tmp_path / "out", contracts)
    assert rules(result) == {}
    op = load_contracts([tmp_path / "out"]).get("trees.get_tree")
    assert op.response.schema["properties"]["n"] == {
        "type": ["integer", "null"], "exclusiveMinimum": 0, "examples": [3]
    }  # fmt: skip
    assert op.response.examples[0].value == {"n": 3}
