"""Routing: a method and path to the operations that live there (no server needed)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from contracts.model import ContractSet, Operation
from contracts.paths import PrefixAlias, PrefixMap
from mockserver.routing import Router, route_method, served_paths


@pytest.fixture(scope="module")
def router(contracts: ContractSet) -> Router:
    return Router(contracts.operations)


def ids(ops: list[Operation]) -> list[str]:
    return sorted(op.id for op in ops)


def test_literal_paths_beat_templates(router: Router) -> None:
    listed = router.find("/mj/task/list")
    assert listed.route is not None and listed.params == {}
    assert ids(listed.operations("GET")) == ["mj.task.list"]
    fetched = router.find("/mj/task/abc/fetch")
    assert fetched.params == {"id": "abc"} and ids(fetched.operations("GET")) == ["mj.task.fetch"]


def test_fewest_parameters_first_and_one_segment_each(router: Router) -> None:
    kling = router.find("/kling/v1/videos/text2video/t-1")
    assert kling.params == {"action": "videos", "action2": "text2video", "task_id": "t-1"}
    assert router.find("/mj/task/a/b/fetch").route is None  # a parameter is one segment


def test_trailing_slash_bare_paths_and_methods(router: Router) -> None:
    assert ids(router.find("/v1/models/").operations("GET")) == ["openai.models.list"]
    bare = router.find("/chat/completions")  # seed 004 documents the bare path
    assert len(bare.operations("POST")) > 1 and bare.operations("GET") == []
    assert bare.allowed == ["POST"]
    assert router.find("/v1/nope").route is None and router.find("/v1/nope").allowed == []
    assert route_method("HEAD") == "GET" and route_method("POST") == "POST"


def test_bare_paths_can_be_switched_off(contracts: ContractSet) -> None:
    op = contracts.get("openai.models.list")
    assert served_paths(op, True) == ["/v1/models", "/models"]
    assert served_paths(op, False) == ["/v1/models"]
    strict = Router([op], bare_paths=False)
    assert strict.find("/models").route is None and strict.find("/v1/models").route is not None


def test_locate_applies_the_path_map_then_aliases(router: Router) -> None:
    aliases = (PrefixAlias("/mj-fast/mj", "/mj", "fast mode"),)
    mapped = PrefixMap((("/mj", "/midjourney"),))
    match, alias = router.locate("/midjourney/task/9/fetch", mapped, aliases)
    assert match.params == {"id": "9"} and alias is None
    match, alias = router.locate("/mj-fast/mj/task/9/fetch", PrefixMap(), aliases)
    assert match.params == {"id": "9"} and alias == aliases[0]
    match, alias = router.locate("/mj-slow/mj/task/9/fetch", PrefixMap(), aliases)
    assert match.route is None and alias is None


def test_gemini_actions_beside_openais_model_retrieve(
    router: Router, contracts: ContractSet
) -> None:
    """``{model}:generateContent`` is one segment: the model before the colon, the action
    after; OpenAI's ``GET /v1/models/{model}`` keeps its ids, colons included (fine-tunes)."""
    found = router.find("/v1beta/models/gemini-2.0-flash:streamGenerateContent")
    assert ids(found.operations("POST")) == ["gemini.stream_generate_content"]
    assert found.params == {"model": "gemini-2.0-flash"}
    assert ids(router.find("/v1beta/models/gemini-2.0-flash").operations("GET")) == [
        "gemini.models.get"
    ]
    fine_tune = router.find("/v1/models/ft:gpt-4o-mini:org::abc")
    assert ids(fine_tune.operations("GET")) == ["openai.models.retrieve"]
    assert fine_tune.params == {"model": "ft:gpt-4o-mini:org::abc"}
    aliases = contracts.prefix_aliases  # google-genai 3.x with a base_url: /v1/models/...
    match, alias = router.locate(
        "/v1/models/gemini-2.0-flash:generateContent", PrefixMap(), aliases, "POST"
    )
    assert ids(match.operations("POST")) == ["gemini.generate_content"] and alias is not None
    for path in ("/v1/models/gpt-4o-mini", "/v1/models"):  # OpenAI's GETs stay OpenAI's
        match, alias = router.locate(path, PrefixMap(), aliases, "GET")
        assert ids(match.operations("GET"))[0].startswith("openai.") and alias is None
    match, alias = router.locate("/v1/models/x:generateContent", PrefixMap(), aliases, "GET")
    assert ids(match.operations("GET")) == ["openai.models.retrieve"] and alias is None
    match, alias = router.locate("/v1/models/x:generateContent", PrefixMap(), aliases, "PUT")
    assert match.allowed == ["GET"] and alias is None  # no alias answers PUT either: 405


def test_operations_sharing_a_route_are_kept_in_order(contracts: ContractSet) -> None:
    base = contracts.get("openai.models.list")
    a, b = replace(base, id="a"), replace(base, id="b", method="POST")
    c = replace(base, id="c")
    found = Router([a, b, c], bare_paths=False).find("/v1/models")
    assert [o.id for o in found.operations("GET")] == ["a", "c"] and found.allowed == [
        "GET",
        "POST",
    ]
