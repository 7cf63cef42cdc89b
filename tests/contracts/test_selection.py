"""Selection: which operation a request body means among those on one method and path."""

from __future__ import annotations

from dataclasses import replace

import pytest

from contracts.model import Condition, ContractSet, Operation
from contracts.selection import holds, matches, rank, select


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
