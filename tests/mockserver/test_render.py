"""Renderers: the registry matches the contract vocabulary; chat shaping honours the request."""

from __future__ import annotations

import json
from typing import Any

import yaml

from contracts.loader import META_SCHEMA_FILE
from contracts.model import ContractSet
from contracts.validation import Validators
from mockserver.render import JSON_RENDERERS, STREAM_RENDERERS, RenderContext
from mockserver.render.chat import render_json, render_stream, split_text


def test_every_renderer_a_contract_names_exists(contracts: ContractSet) -> None:
    defs = yaml.safe_load(META_SCHEMA_FILE.read_text(encoding="utf-8"))["$defs"]
    assert set(JSON_RENDERERS) <= set(defs["json_renderer"]["enum"])
    assert set(STREAM_RENDERERS) <= set(defs["stream_renderer"]["enum"])
    for op in contracts:
        assert op.response.render in JSON_RENDERERS, (op.id, op.response.render)
        if op.stream:
            assert op.stream.render in STREAM_RENDERERS, (op.id, op.stream.render)


def ctx(contracts: ContractSet, op_id: str, body: dict[str, Any]) -> RenderContext:
    op = contracts.get(op_id)
    return RenderContext(
        op=op,
        body=body,
        example=op.example() or op.stream_example(),
        validators=Validators(contracts.components),
    )


def test_response_is_valid_against_the_contract(contracts: ContractSet) -> None:
    body = {
        "model": "o3-mini",
        "messages": [{"role": "user", "content": "2+2?"}],
        "reasoning_effort": "low",
        "max_completion_tokens": 20,
        "n": 2,
    }
    c = ctx(contracts, "openai.chat.reasoning_effort", body)
    out = render_json(c)
    assert c.validators.problems(c.op.response.schema, out) == []
    assert out["usage"]["completion_tokens"] <= 2 * 20
    assert out["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_tool_choice_names_the_function_to_call(contracts: ContractSet) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": n,
                "parameters": {
                    "type": "object",
                    "properties": {"q": {"type": "integer", "minimum": 3}},
                    "required": ["q"],
                },
            },
        }
        for n in ("a", "b")
    ]
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "x"}],
        "tools": tools,
        "tool_choice": {"type": "function", "function": {"name": "b"}},
    }
    call = render_json(ctx(contracts, "openai.chat.function_calling.nonstream_only", body))
    fn = call["choices"][0]["message"]["tool_calls"][0]["function"]
    assert fn["name"] == "b" and json.loads(fn["arguments"]) == {"q": 3}


def test_tool_choice_none_answers_in_text(contracts: ContractSet) -> None:
    tools = [{"type": "function", "function": {"name": "a"}}]
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "x"}],
        "tools": tools,
        "tool_choice": "none",
    }
    out = render_json(ctx(contracts, "openai.chat.function_calling.nonstream_only", body))
    assert out["choices"][0]["message"]["content"] and out["choices"][0]["finish_reason"] == "stop"


def test_json_object_mode_gives_a_json_object(contracts: ContractSet) -> None:
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "x"}],
        "response_format": {"type": "json_object"},
    }
    out = render_json(ctx(contracts, "openai.chat.completions.nonstream", body))
    assert isinstance(json.loads(out["choices"][0]["message"]["content"]), dict)


def test_stream_cut_by_max_tokens_ends_with_length(contracts: ContractSet) -> None:
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "x"}],
        "stream": True,
        "max_tokens": 2,
    }
    events = render_stream(ctx(contracts, "openai.chat.completions.stream", body))
    text = "".join(e.data["choices"][0]["delta"].get("content") or "" for e in events)
    assert text == "Hello there" and events[-1].data["choices"][0]["finish_reason"] == "length"


def test_split_text_joins_back() -> None:
    for text in (
        "Hello there, how may I assist you today?",
        "这张图片里有什么?请详细描述。" * 3,
        "",
    ):
        assert "".join(split_text(text)) == text
