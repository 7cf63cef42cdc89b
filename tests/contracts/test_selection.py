"""Selection: which operation a request body means among those on one method and path."""

from __future__ import annotations

from dataclasses import replace

import pytest

from contracts.model import Condition, ContractSet, Operation
from contracts.model_names import named_models
from contracts.selection import Selector, _compiled, holds, matches, rank, select


@pytest.fixture(scope="module")
def base(contracts: ContractSet) -> Operation:
    return contracts.get("openai.chat.completions.nonstream")


@pytest.fixture(scope="module")
def streaming(contracts: ContractSet) -> Operation:
    return contracts.get("openai.chat.completions.stream")


def cond(field: str, op: str, value: object) -> Condition:
    return Condition(field, op, value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("condition", "body", "expected"),
    [
        (cond("stream", "equals", True), {"stream": True}, True),
        (cond("stream", "equals", True), {"stream": 1}, False),  # the type must match too
        (cond("stream", "equals", False), {}, True),  # false also matches an absent field
        (cond("stream", "equals", False), {"stream": None}, True),
        (cond("model", "glob", ["gpt-4-gizmo-*"]), {"model": "gpt-4-gizmo-g-1"}, True),
        (cond("model", "glob", "claude-*"), {"model": "gpt-4o"}, False),
        (cond("model", "glob", "claude-*"), {"model": 7}, False),
        (cond("tools", "present", True), {"tools": []}, True),
        (cond("tools", "present", True), {"tools": None}, False),
        (cond("tools", "present", False), {}, True),
        (cond("n", "gt", 1), {"n": 2}, True),
        (cond("n", "gt", 1), {"n": True}, False),  # a boolean is no number here
        (
            cond("messages.*.content.*.type", "contains", "image_url"),
            {"messages": [{"content": "hi"}, {"content": [{"type": "image_url"}]}]},
            True,
        ),
        (
            cond("messages.*.content", "prefix", "http"),
            {"messages": [{"content": "http://x"}]},
            True,
        ),
        # '*' walks arrays only in a match field: an object where a list belongs is no match
        (
            cond("messages.*.content", "prefix", "http"),
            {"messages": {"a": {"content": "http"}}},
            False,
        ),
    ],
)
def test_conditions(condition: Condition, body: object, expected: bool) -> None:
    assert holds(condition, body) is expected
    assert _compiled(condition)(body) is expected  # the Selector's prepared form agrees


@pytest.mark.parametrize(
    "condition",
    [
        cond("stream", "equals", False),
        cond("stream", "equals", True),
        cond("n", "equals", 0),
        cond("model", "equals", "gpt-4o"),
        cond("model", "glob", ["gpt-4-gizmo-*", "o1*"]),
        cond("model", "glob", "claude-[ab]?"),
        cond("model", "glob", []),
        cond("tools", "present", True),
        cond("tools", "present", False),
    ],
)
def test_prepared_conditions_agree_with_holds(condition: Condition) -> None:
    bodies: list[object] = [None, [], "text", 0, {}, {"x": 1}]
    for value in (
        None,
        False,
        True,
        0,
        1,
        0.0,
        "",
        "gpt-4o",
        "gpt-4-gizmo-x",
        "o1-mini",
        "claude-a1",
        "claude-ab",
        "Claude-a1",
        "gpt-4o\n",
        [],
        ["gpt-4o"],
        {},
    ):
        bodies += [{"stream": value}, {"n": value}, {"model": value}, {"tools": value}]
    for body in bodies:
        assert _compiled(condition)(body) is holds(condition, body), body


def test_an_unknown_condition_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown condition"):
        holds(cond("x", "near", 1), {"x": 1})


def test_the_implied_stream_condition_filters(base: Operation, streaming: Operation) -> None:
    assert matches(base, {"model": "m"}) and not matches(base, {"model": "m", "stream": True})
    assert matches(streaming, {"stream": True}) and not matches(streaming, {"model": "m"})
    assert select([base, streaming], {"stream": True}) is streaming
    assert select([base, streaming], {}) is base


def test_most_specific_wins_after_priority(base: Operation) -> None:
    plain = replace(base, id="plain", match=())
    gizmo = replace(base, id="gizmo", match=(cond("model", "glob", ["gpt-4-gizmo-*"]),))
    tools = replace(
        base,
        id="tools",
        match=(cond("model", "glob", ["gpt-4-gizmo-*"]), cond("tools", "present", True)),
    )
    ops = [plain, gizmo, tools]
    assert select(ops, {"model": "gpt-4o"}) is plain
    assert select(ops, {"model": "gpt-4-gizmo-x"}) is gizmo
    assert select(ops, {"model": "gpt-4-gizmo-x", "tools": []}) is tools
    urgent = replace(plain, id="urgent", priority=5)
    assert select([*ops, urgent], {"model": "gpt-4-gizmo-x", "tools": []}) is urgent
    assert [o.id for o in rank([plain, tools, urgent, gizmo])] == [
        "urgent",
        "tools",
        "gizmo",
        "plain",
    ]


def test_no_match_is_none(base: Operation) -> None:
    only = replace(base, id="only", match=(cond("model", "glob", ["claude-*"]),))
    assert select([only], {"model": "gpt-4o"}) is None
    assert select([], {}) is None


def test_the_selector_chooses_as_select_does(contracts: ContractSet) -> None:
    """Every route and method of the shipped contracts, with every operation's request examples
    varied (stream on, off, absent; every named model; tools; n): the same operation."""
    routes: dict[tuple[str, str], list[Operation]] = {}
    for op in contracts:
        routes.setdefault((op.method, op.path), []).append(op)
    models = [m.id for m in named_models(contracts)] + ["claude-x", "gemini-2.0-flash-exp-1"]
    checked = 0
    for ops in routes.values():
        selector = Selector(ops)
        bodies: list[object] = [None, {}, [], "x"]
        for op in ops:
            for example in op.request.examples:
                if not isinstance(example.value, dict):
                    continue
                bodies.append(example.value)
                for stream in (True, False, None, 1, 0, 1.0, "true", [True]):
                    bodies.append({**example.value, "stream": stream})
                for tools in (None, [], [{"type": "function"}], "x"):
                    bodies.append({**example.value, "tools": tools})
                bodies += [
                    {**example.value, "modalities": ["text", "audio"]},
                    {**example.value, "response_format": {"type": "json_schema"}},
                    {**example.value, "response_format": None, "messages": None},
                    {k: v for k, v in example.value.items() if k != "messages"},
                ]
                bodies.append({k: v for k, v in example.value.items() if k != "stream"})
                bodies.append({**example.value, "tools": [], "n": 2})
                if "model" in example.value:
                    bodies += [{**example.value, "model": m} for m in models]
                    bodies += [{**example.value, "model": m} for m in (None, 4, ["gpt-4o"])]
        for body in bodies * 2:  # twice: the second time from what the selector kept
            assert selector.select(body) is select(ops, body), body
            assert selector.choose(body) is (select(ops, body) or rank(ops)[-1])
            checked += 1
    assert checked > 1000
