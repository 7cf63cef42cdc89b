"""Catalogue coverage: every documented operation, per seed, has a contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from contracts.coverage import DEFAULT_CATALOGUE, coverage, format_table, to_json
from contracts.model import ContractSet
from tests.conftest import ROOT

CATALOGUE = DEFAULT_CATALOGUE


def test_the_default_catalogue_is_package_data_inside_the_repository() -> None:
    import contracts

    package = Path(contracts.__file__).resolve().parent
    assert package / "catalog" / "operations.yaml" == DEFAULT_CATALOGUE
    assert DEFAULT_CATALOGUE.is_file() and ROOT.resolve() in DEFAULT_CATALOGUE.parents


BEYOND = (
    "anthropic.messages.count_tokens",
    "gemini.count_tokens",
    "gemini.generate_content",
    "gemini.models.get",
    "gemini.models.list",
    "gemini.stream_generate_content",
    "newapi.usage.token",
    "openai.chat.reasoning_content",
    "openai.models.retrieve",
    "openai.moderations",
    "openai.responses.delete",
    "openai.responses.input_items",
    "openai.responses.nonstream",
    "openai.responses.retrieve",
    "openai.responses.stream",
    "openai.videos.content",
    "openai.videos.create",
    "openai.videos.delete",
    "openai.videos.list",
    "openai.videos.retrieve",
    "rerank.create",
)


def test_nothing_is_missing(contracts: ContractSet) -> None:
    cov = coverage(contracts)
    assert cov.complete and not cov.extra
    assert cov.beyond == BEYOND
    assert all(contracts.get(i).provenance.source.startswith("https://") for i in BEYOND)
    assert (len(cov.total.documented), cov.total.contracted) == (119, 119)
    per_seed = {r.seed: (len(r.documented), r.contracted, r.missing) for r in cov.rows}
    assert per_seed == {
        "000": (70, 70, ()),
        "001": (1, 1, ()),
        "002": (15, 15, ()),
        "003": (63, 63, ()),
        "004": (43, 43, ()),
    }
    table = format_table(cov)
    assert table.splitlines()[-1] == "119 of 119 catalogue operations have a contract."
    assert f"beyond the seeds (from public API references): {', '.join(BEYOND)}" in table
    assert to_json(cov)["beyond_seeds"] == list(BEYOND)
    assert "all   -" in table and "mock" not in table.splitlines()[0]


def test_a_serves_check_adds_the_mock_column(contracts: ContractSet) -> None:
    cov = coverage(contracts, serves=lambda op: op.id != "openai.audio.speech")
    assert not cov.complete
    assert cov.total.served == 118 and cov.total.unserved == ("openai.audio.speech",)
    by_seed = {r.seed: r for r in cov.rows}
    assert by_seed["001"].unserved == () and by_seed["002"].served == 14
    table = format_table(cov)
    assert table.splitlines()[0].split() == [
        "seed",
        "file",
        "documented",
        "contract",
        "mock",
        "missing",
    ]
    assert "000 not served: openai.audio.speech" in table
    last = "119 of 119 catalogue operations have a contract, 118 served by the mock."
    assert table.splitlines()[-1] == last
    assert to_json(cov)["total"]["unserved"] == ["openai.audio.speech"]


def test_missing_and_extra_operations_are_named(contracts: ContractSet, tmp_path: Path) -> None:
    data = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    data["operations"] = [o for o in data["operations"] if o["id"] != "openai.models.list"]
    data["operations"].append(
        {"id": "acme.widgets.create", "seeds": ["002_5abdb2ba82fa94f6.txt"], "title_refs": []}
    )
    path = tmp_path / "operations.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cov = coverage(contracts, catalogue=path)
    assert not cov.complete and cov.extra == ("openai.models.list",)
    assert cov.total.missing == ("acme.widgets.create",)
    table = format_table(cov)
    assert "002 no contract: acme.widgets.create" in table
    assert "contracts not in the catalogue: openai.models.list" in table
    assert table.splitlines()[-1] == "118 of 119 catalogue operations have a contract."
    out = json.loads(json.dumps(to_json(cov)))
    assert out["complete"] is False and out["seeds"][2]["missing"] == ["acme.widgets.create"]


def test_a_missing_catalogue_names_its_path(contracts: ContractSet, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nowhere\.yaml"):
        coverage(contracts, catalogue=tmp_path / "nowhere.yaml")
