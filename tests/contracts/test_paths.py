"""Documented paths: templates matched and filled, relay aliases and user remaps, both ways."""

from __future__ import annotations

import pytest

from contracts.model import ContractSet
from contracts.paths import PrefixMap, template, unalias


def test_prefix_map_both_ways() -> None:
    m = PrefixMap.parse(["/suno/submit=/suno/v1", "suno=/audio/suno/"])
    assert m.to_contract("/suno/v1/music") == "/suno/submit/music"
    assert m.to_relay("/suno/submit/music") == "/suno/v1/music"
    assert m.to_contract("/audio/suno/fetch/1") == "/suno/fetch/1"
    assert m.to_contract("/suno/v1x/music") is None
    assert m.to_relay("/mj/submit/imagine") == "/mj/submit/imagine"


@pytest.mark.parametrize("spec", ["/suno/submit", "=/x", "/x=", "/=/"])
def test_malformed_map_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="CONTRACT_PREFIX=RELAY_PREFIX"):
        PrefixMap.parse([spec])


def test_mj_speed_modes_are_shipped_aliases(contracts: ContractSet) -> None:
    path, alias = unalias("/mj-fast/mj/submit/imagine", contracts.prefix_aliases)
    assert path == "/mj/submit/imagine" and alias is not None and "fast" in alias.meaning
    assert unalias("/mj/submit/imagine", contracts.prefix_aliases) == ("/mj/submit/imagine", None)


def test_a_map_that_hides_another_familys_paths_is_named(contracts: ContractSet) -> None:
    from contracts.paths import shadowed

    documented = [op.path for op in contracts]
    hidden = shadowed(PrefixMap.parse(["/suno/submit=/suno/v1"]), documented)
    assert hidden and all(h.startswith("/suno/v1/") for h in hidden)
    assert "which the map gives to /suno/submit" in hidden[0]
    assert shadowed(PrefixMap.parse(["/mj=/midjourney"]), documented) == []


def test_a_path_template_matches_one_segment_per_parameter() -> None:
    shape = template("/kling/v1/{action}/{action2}/{task_id}")
    assert shape.names == ("action", "action2", "task_id")
    assert shape.match("/kling/v1/videos/text2video/42") == {
        "action": "videos",
        "action2": "text2video",
        "task_id": "42",
    }
    assert shape.match("/kling/v1/videos/42") is None
    assert shape.match("/kling/v1/a/b/c/d") is None
    assert template("/v1/models").match("/v1/models") == {}
    assert template("/v1/models").match("/v1/models/x") is None
    assert template("/a.b/{id}").match("/aXb/1") is None  # literal parts are literal


def test_a_path_template_fills_what_it_is_given() -> None:
    shape = template("/mj/task/{id}/fetch")
    assert shape.fill({"id": "17"}) == "/mj/task/17/fetch"
    assert shape.fill({}) == "/mj/task/{id}/fetch"
    assert template("/mj/task/{id}/fetch") is shape  # compiled once
