"""The shipped contracts: complete for the core families, faithful to the seeds, self-consistent."""

from __future__ import annotations

import json

import pytest
import yaml

from contracts.coverage import DEFAULT_CATALOGUE as CATALOGUE
from contracts.model import ContractSet
from contracts.selection import select
from contracts.validation import Validators
from tests.conftest import DATA

SEEDS = DATA / "seeds"
CORE_FAMILIES = {"openai-chat", "models", "openai-completions", "embeddings"}


@pytest.fixture(scope="module")
def catalogue() -> dict[str, dict]:
    data = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    return {item["id"]: item for item in data["operations"]}


def test_every_core_catalogue_operation_has_a_contract(
    contracts: ContractSet, catalogue: dict
) -> None:
    core = {i for i, item in catalogue.items() if item["family"] in CORE_FAMILIES}
    assert len(core) == 30
    missing = core - {op.id for op in contracts}
    assert not missing, f"no contract for {sorted(missing)}"


def test_every_example_validates_against_its_own_schema(contracts: ContractSet) -> None:
    v = Validators(contracts.components)
    checked = 0
    for op in contracts:
        for ex in op.request.examples:
            if ex.servable and op.request.schema and op.request.content_type == "application/json":
                assert v.problems(op.request.schema, ex.value) == [], (op.id, ex.name)
                checked += 1
        for ex in op.response.examples:
            if ex.servable and op.response.schema:
                assert v.problems(op.response.schema, ex.value) == [], (op.id, ex.name)
                checked += 1
        if op.stream and op.stream.framing == "sse-data":
            for ex in op.stream.examples:
                for event in ex.value:
                    assert v.problems(op.stream.event_schema, event) == [], (op.id, ex.name)
                    checked += 1
    assert checked > 100


def test_provenance_matches_the_catalogue(contracts: ContractSet, catalogue: dict) -> None:
    for op in contracts:
        item = catalogue.get(op.id)
        if item is None:
            continue
        expected = {(r["seed"], r["line"], r["title"]) for r in item["title_refs"]}
        got = {(s.file, s.line, s.title) for s in op.provenance.seeds}
        assert got == expected, op.id
        assert op.method == item["method"]
        if item["path"] and op.path != item["path"]:
            # A contract may correct the catalogue, but only with a relaykit erratum that says so.
            fixes = [e for e in op.errata if e.ref.startswith("R") and item["path"] in e.seed_says]
            assert fixes, f"{op.id}: path {op.path} differs from the catalogue's {item['path']}"


def test_each_request_example_selects_its_own_operation(contracts: ContractSet) -> None:
    routes: dict[tuple[str, str], list] = {}
    for op in contracts:
        routes.setdefault((op.method, op.path), []).append(op)
    for op in contracts:
        for ex in op.request.examples:
            if ex.servable and isinstance(ex.value, dict):
                chosen = select(routes[(op.method, op.path)], ex.value)
                assert chosen is not None and chosen.id == op.id, (
                    op.id,
                    ex.name,
                    chosen and chosen.id,
                )


def _seed_json(name: str, line: int) -> object:
    """The JSON document that starts at ``line`` (1-based) of a seed file."""
    path = next(SEEDS.glob(f"{name}_*.txt"))
    text = "\n".join(path.read_text(encoding="utf-8").splitlines()[line - 1 :])
    value, _ = json.JSONDecoder().raw_decode(text[text.index("{") :])
    return value


def _named(examples: tuple, name: str) -> object:
    found = [e.value for e in examples if e.name == name]
    assert found, f"no example named {name}"
    return found[0]


@pytest.mark.parametrize(
    ("op_id", "name", "seed", "request_line", "response_line"),
    [
        ("openai.chat.vision.stream", "seed-000", "000", 273, 409),
        ("openai.chat.gpt4_all.file_analysis", "seed-002", "002", 129, 222),
        ("openai.chat.gpt4_all.image_generation", "seed-003", "003", 215, 299),
        ("openai.chat.gpts_gizmo", "seed-004", "004", 99, 142),
    ],
)
def test_seed_examples_are_verbatim(
    contracts: ContractSet, op_id: str, name: str, seed: str, request_line: int, response_line: int
) -> None:
    op = contracts.get(op_id)
    assert _named(op.request.examples, name) == _seed_json(seed, request_line)
    assert _named(op.response.examples, name) == _seed_json(seed, response_line)


def test_seed_001_raw_apifox_examples_are_verbatim(contracts: ContractSet) -> None:
    lines = next(SEEDS.glob("001_*.txt")).read_text(encoding="utf-8").splitlines()
    body = json.loads(lines[17])
    request = json.loads(body["examples"][0]["value"])
    response = json.loads(json.loads(lines[21])[0]["data"])
    op = contracts.get("openai.chat.vision.stream")
    assert _named(op.request.examples, "seed-001") == request
    assert _named(op.response.examples, "seed-001") == response


def test_seed_responses_that_break_the_schema_cite_their_erratum(contracts: ContractSet) -> None:
    op = contracts.get("openai.chat.vision.stream")
    seed_response = _named(op.response.examples, "seed-000")
    assert "model" not in seed_response
    cited = {e.erratum for e in op.response.examples if not e.servable}
    assert "E8" in cited and {"E8", "E14"} <= {e.ref for e in op.errata}
    assert op.stream is not None and op.stream.when == "always"


def test_errata_of_the_seed_pages_are_applied(contracts: ContractSet) -> None:
    refs = {e.ref for e in contracts.get("openai.chat.vision.stream").errata}
    assert {"E1", "E2", "E3", "E5", "E6", "E7", "E8", "E10"} <= refs
    request = contracts.components["ChatCompletionRequest"]["properties"]
    assert request["temperature"]["type"] == "number"
    assert request["tools"]["items"] == {"$ref": "#/components/schemas/Tool"}
    assert (
        "seed" in request
        and "tools" not in contracts.components["ChatCompletionRequest"]["required"]
    )
