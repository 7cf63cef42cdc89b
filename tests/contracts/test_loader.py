"""A malformed contract fails at load time, naming the file, the field and the fault."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from contracts.loader import ContractError, load_contracts

GOOD = {
    "id": "demo.ping",
    "family": "demo",
    "vendor": "openai",
    "summary": "Ping",
    "provenance": {"seeds": [], "path_source": "relaykit test", "path_confidence": "low"},
    "method": "POST",
    "path": "/v1/ping",
    "auth": ["bearer"],
    "request": {
        "content_type": "application/json",
        "schema": {
            "type": "object",
            "required": ["model"],
            "properties": {"model": {"type": "string"}},
        },
        "examples": [{"name": "ok", "value": {"model": "m"}}],
    },
    "response": {
        "status": 200,
        "schema": {"$ref": "#/components/schemas/ModelList"},
        "examples": [{"name": "ok", "value": {"object": "list", "data": []}}],
    },
    "errors": {"envelope": "openai"},
    "cost": {"paid": False, "unit": "none"},
}


def write(tmp: Path, name: str, data: dict) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def problems(tmp: Path) -> list[str]:
    with pytest.raises(ContractError) as info:
        load_contracts([tmp])
    return info.value.problems


def test_a_good_contract_loads(tmp_path: Path) -> None:
    write(tmp_path, "demo.ping", GOOD)
    cs = load_contracts([tmp_path])
    assert [op.id for op in cs] == ["demo.ping"]
    assert cs.get("demo.ping").example().value == {"object": "list", "data": []}


def test_missing_key_names_file_and_field(tmp_path: Path) -> None:
    data = {k: v for k, v in GOOD.items() if k != "method"}
    path = write(tmp_path, "demo.ping", data)
    (line,) = problems(tmp_path)
    assert str(path) in line and "'method' is a required property" in line


def test_missing_nested_key_gives_its_path(tmp_path: Path) -> None:
    data = {**GOOD, "cost": {"paid": True}}
    write(tmp_path, "demo.ping", data)
    (line,) = problems(tmp_path)
    assert ": cost: 'unit' is a required property" in line


def test_bad_ref_names_the_ref_and_where_it_is(tmp_path: Path) -> None:
    data = {
        **GOOD,
        "response": {**GOOD["response"], "schema": {"$ref": "#/components/schemas/Nope"}},
    }
    write(tmp_path, "demo.ping", data)
    (line,) = problems(tmp_path)
    assert "response.schema.$ref: unknown $ref '#/components/schemas/Nope'" in line


def test_example_that_breaks_its_own_schema(tmp_path: Path) -> None:
    request = {**GOOD["request"], "examples": [{"name": "bad", "value": {"model": 3}}]}
    write(tmp_path, "demo.ping", {**GOOD, "request": request})
    (line,) = problems(tmp_path)
    assert "request.examples[0] (bad): example does not match its schema at model" in line


def test_stream_event_that_breaks_the_event_schema(tmp_path: Path) -> None:
    stream = {
        "framing": "sse-data",
        "when": "always",
        "terminator": "[DONE]",
        "event_schema": {"$ref": "#/components/schemas/ChatCompletionChunk"},
        "examples": [{"name": "s", "events": [{"object": "chat.completion.chunk"}]}],
    }
    write(tmp_path, "demo.ping", {**GOOD, "stream": stream})
    lines = problems(tmp_path)
    assert any("stream.examples[0].events[0] (s)" in line for line in lines)


def test_duplicate_id(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "a", "demo.ping", GOOD)
    write(tmp_path / "b", "demo.ping", {**GOOD, "path": "/v1/other"})
    (line,) = problems(tmp_path)
    assert "duplicate id 'demo.ping'" in line and "/a/" in line and "/b/" in line


def test_two_operations_nothing_tells_apart(tmp_path: Path) -> None:
    write(tmp_path, "demo.ping", GOOD)
    write(tmp_path, "demo.pong", {**GOOD, "id": "demo.pong"})
    (line,) = problems(tmp_path)
    assert "nothing tells them apart" in line and "POST /v1/ping" in line


def test_a_match_condition_tells_them_apart(tmp_path: Path) -> None:
    write(tmp_path, "demo.ping", GOOD)
    write(tmp_path, "demo.pong", {**GOOD, "id": "demo.pong", "match": {"model": {"glob": "x-*"}}})
    assert len(load_contracts([tmp_path])) == 2


def test_id_must_match_file_name(tmp_path: Path) -> None:
    write(tmp_path, "other", GOOD)
    (line,) = problems(tmp_path)
    assert "id: 'demo.ping' must match the file name 'other'" in line


def test_unknown_envelope(tmp_path: Path) -> None:
    write(tmp_path, "demo.ping", {**GOOD, "errors": {"envelope": "nope"}})
    (line,) = problems(tmp_path)
    assert "errors.envelope: unknown envelope 'nope'" in line


def test_erratum_example_must_cite_a_listed_erratum(tmp_path: Path) -> None:
    response = {**GOOD["response"], "examples": [{"name": "seed", "erratum": "E14", "value": {}}]}
    write(tmp_path, "demo.ping", {**GOOD, "response": response})
    (line,) = problems(tmp_path)
    assert "'E14' is not listed in errata" in line


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "demo.ping.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    (line,) = problems(tmp_path)
    assert "demo.ping.yaml: not valid YAML" in line


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, "demo.ping", {**GOOD, "errors": {"envelope": "nope"}})
    write(tmp_path, "demo.pong", {**GOOD, "id": "demo.pong", "method": "FETCH"})
    assert len(problems(tmp_path)) == 2


def test_validator_cache_is_bounded() -> None:
    from contracts.validation import Validators

    v = Validators({}, cache_size=3)
    for n in range(10):
        assert v.is_valid({"type": "integer", "minimum": n}, 100)
    assert len(v._cache) == 3
