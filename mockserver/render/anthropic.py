"""Anthropic's /v1/messages: a Message shaped by the request, as one object or named events.

plan: the blocks the message says, from the conversation (``conversation.py`` decides between
tool calls and text) and the example (its words, its documented tool inputs): a thinking block
with a signature first when ``thinking`` is enabled; then tool_use blocks (after a line of
text when Claude chose the tools itself, none when ``tool_choice`` forced them), or the text
that answers the tool results, or the example's text.
shape: ``stop_sequences`` cut the text where one appears (stop_reason ``stop_sequence``);
``max_tokens`` cuts the message at the cap (stop_reason ``max_tokens``, output_tokens = the
cap; a tool_use block that does not fit is left out).
write: the Message, or message_start, content_block_start / delta / stop per block (a ping
after the first start), message_delta and message_stop. An example that documents an error
mid-stream is served as documented. Input tokens are counted from the request (system,
messages, tools), which is also what ``POST /v1/messages/count_tokens`` answers.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mockserver import tokens
from mockserver.render import static
from mockserver.render.chat import FALLBACK_TEXT, split_text
from mockserver.render.context import Event, RenderContext
from mockserver.render.conversation import (
    Tool,
    ToolResult,
    Turn,
    answer,
    arguments,
    preamble,
    tools_to_call,
)

THINKING_TEXT = "The user asks something short; a brief, direct answer will do."
"""What a thinking block says when no example documents one."""
JSON_PIECE = 12
"""Characters of tool input per input_json_delta."""
MODES = {"auto": "auto", "any": "required", "tool": "named", "none": "none"}
"""Anthropic's tool_choice types as conversation.py's modes."""


@dataclass(slots=True)
class Block:
    """One content block of the answer: thinking, text or tool_use."""

    type: str
    text: str = ""
    """The text of a text block, the thinking of a thinking block."""
    signature: str = ""
    id: str = ""
    name: str = ""
    input: Any = field(default_factory=dict)

    def tokens(self) -> int:
        """Output tokens the block spends."""
        if self.type == "tool_use":
            return tokens.count(json.dumps(self.input, ensure_ascii=False))
        return tokens.count(self.text)

    def to_json(self) -> dict[str, Any]:
        """The block as a Message's content holds it."""
        if self.type == "tool_use":
            return {"type": "tool_use", "id": self.id, "name": self.name, "input": self.input}
        if self.type == "thinking":
            return {"type": "thinking", "thinking": self.text, "signature": self.signature}
        return {"type": "text", "text": self.text}


@dataclass(slots=True)
class Plan:
    """The blocks, why the message stopped, and what it cost."""

    blocks: list[Block]
    stop_reason: str = "end_turn"
    stop_sequence: str | None = None
    output_tokens: int = 0


# --- reading the request --------------------------------------------------------------------


def _blocks(content: Any) -> list[dict[str, Any]]:
    """A message's content as blocks (a string is one text block)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def _text(content: Any) -> str:
    """The text of a content (a string, or text blocks and tool_result contents)."""
    parts = []
    for b in _blocks(content):
        if b.get("type") == "text":
            parts.append(str(b.get("text") or ""))
        elif b.get("type") == "tool_result":
            parts.append(_text(b.get("content")))
    return " ".join(p for p in parts if p)


def read_turn(messages: Any) -> Turn:
    """Where an Anthropic conversation stands: the last user message that hands back no tool
    results (one that does continues the turn, even with text beside the results), the
    tool_use blocks since, and the tool_result blocks that answer them."""
    items = [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    def asks(m: dict[str, Any]) -> bool:
        blocks = _blocks(m.get("content"))
        return m.get("role") == "user" and all(b.get("type") != "tool_result" for b in blocks)

    last_user = max((i for i, m in enumerate(items) if asks(m)), default=-1)
    names = {
        str(b.get("id")): str(b.get("name") or "")
        for m in items
        if m.get("role") == "assistant"
        for b in _blocks(m.get("content"))
        if b.get("type") == "tool_use"
    }
    called = False
    results = []
    for m in items[last_user + 1 :]:
        for b in _blocks(m.get("content")):
            if b.get("type") == "tool_use":
                called = True
            elif b.get("type") == "tool_result":
                called = True
                name = names.get(str(b.get("tool_use_id")), "")
                results.append(ToolResult(name, _text(b.get("content"))))
    user = _text(items[last_user].get("content")) if last_user >= 0 else ""
    return Turn(user, called, tuple(results))


def offered_tools(body: Any) -> list[Tool]:
    """The client tools (with an input_schema) the request offers; server tools run at the
    provider and are not the client's to call."""
    tools = body.get("tools") if isinstance(body, dict) else None
    return [
        Tool(t["name"], t["input_schema"])
        for t in tools or []
        if isinstance(t, dict) and isinstance(t.get("name"), str) and "input_schema" in t
    ]


def input_tokens(body: Any) -> int:
    """Input tokens of a Messages request: system, messages (text, tool use and results,
    thinking; an image or document counts as one picture) and tool definitions."""
    if not isinstance(body, dict):
        return 0
    total = tokens.count(_text(body.get("system"))) if body.get("system") else 0
    for m in body.get("messages") or []:
        if not isinstance(m, dict):
            continue
        total += 3
        for b in _blocks(m.get("content")):
            kind = b.get("type")
            if kind == "tool_use":
                total += tokens.count(str(b.get("name"))) + tokens.count(json.dumps(b.get("input")))
            elif kind == "thinking":
                total += tokens.count(str(b.get("thinking") or ""))
            elif kind in ("image", "document"):
                total += tokens.IMAGE_TOKENS
            else:
                total += tokens.count(_text([b]))
    for t in body.get("tools") or []:
        if isinstance(t, dict):
            total += tokens.count(json.dumps(t, ensure_ascii=False))
    return total + 3


# --- plan -----------------------------------------------------------------------------------


def _example_blocks(ctx: RenderContext) -> Iterator[dict[str, Any]]:
    """Content blocks of every documented Message (the chosen example's first)."""
    chosen = [ctx.example] if ctx.example else []
    for example in [*chosen, *ctx.op.response.examples]:
        value = example.value
        if example.servable and isinstance(value, dict):
            yield from _blocks(value.get("content"))


def _example_text(ctx: RenderContext) -> str:
    value = ctx.example.value if ctx.example else None
    if isinstance(value, list):  # a stream example: join its text deltas
        text = "".join(
            str(e["data"]["delta"].get("text") or "")
            for e in value
            if isinstance(e, dict) and e.get("event") == "content_block_delta"
        )
        return text or FALLBACK_TEXT
    return _text(value.get("content") if isinstance(value, dict) else None) or FALLBACK_TEXT


def plan_for(ctx: RenderContext) -> Plan:
    """The message for this request, planned then shaped."""
    blocks: list[Block] = []
    thinking = ctx.field("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        documented = next(
            (str(b["thinking"]) for b in _example_blocks(ctx) if b.get("type") == "thinking"),
            THINKING_TEXT,
        )
        signature = base64.b64encode(secrets.token_bytes(48)).decode()
        blocks.append(Block("thinking", documented, signature=signature))
    turn = read_turn(ctx.field("messages"))
    choice = ctx.field("tool_choice") or {}
    kind = choice.get("type", "auto") if isinstance(choice, dict) else "auto"
    mode = MODES.get(kind, "auto")
    documented_inputs: dict[str, list[Any]] = {}
    for b in _example_blocks(ctx):
        if b.get("type") == "tool_use":
            documented_inputs.setdefault(str(b.get("name")), []).append(b.get("input"))
    calls = tools_to_call(
        offered_tools(ctx.body),
        mode,
        turn,
        named=choice.get("name") if isinstance(choice, dict) else None,
        parallel=not (isinstance(choice, dict) and choice.get("disable_parallel_tool_use")),
        preferred=list(documented_inputs),
    )
    if calls:
        if mode == "auto":  # forced tool use comes without a word before it
            blocks.append(Block("text", preamble(calls)))
        blocks += [
            Block(
                "tool_use",
                id=ctx.fresh_id("toolu_"),
                name=tool.name,
                input=arguments(ctx.validators, tool, documented_inputs.get(tool.name, ())),
            )
            for tool in calls
        ]
        plan = Plan(blocks, "tool_use")
    else:
        text = answer(turn.results) if turn.results else _example_text(ctx)
        plan = Plan([*blocks, Block("text", text)])
    _stop(ctx, plan)
    _limit(ctx, plan)
    return plan


def _stop(ctx: RenderContext, plan: Plan) -> None:
    """Cut at the first stop sequence in the text; later blocks are never written."""
    stops = [s for s in ctx.field("stop_sequences") or [] if isinstance(s, str) and s]
    for i, block in enumerate(plan.blocks):
        if block.type != "text" or not stops:
            continue
        hits = [(block.text.find(s), s) for s in stops if s in block.text]
        if hits:
            at, seq = min(hits)
            block.text = block.text[:at]
            plan.blocks = [b for b in plan.blocks[: i + 1] if b.type != "text" or b.text]
            plan.stop_reason, plan.stop_sequence = "stop_sequence", seq
            return


def _limit(ctx: RenderContext, plan: Plan) -> None:
    """At max_tokens the message stops: text cut to the cap, a tool_use that does not fit
    left out. Output tokens are what was written, or the cap when it was reached."""
    cap = ctx.int_field("max_tokens")
    spent = sum(b.tokens() for b in plan.blocks)
    if cap is None or spent < cap:
        plan.output_tokens = max(1, spent)
        return
    budget, kept = cap, []
    for block in plan.blocks:
        if block.type == "tool_use":
            if block.tokens() > budget:
                break
        else:
            block.text = tokens.truncate(block.text, budget)
            if not block.text:
                break
        budget -= block.tokens()
        kept.append(block)
    plan.blocks = kept
    plan.stop_reason, plan.stop_sequence, plan.output_tokens = "max_tokens", None, cap


# --- write ----------------------------------------------------------------------------------


def _model(ctx: RenderContext) -> str:
    model = ctx.field("model")
    return model if isinstance(model, str) else "relaykit-mock"


def _usage(ctx: RenderContext, output: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens(ctx.body),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output,
    }


def render_json(ctx: RenderContext) -> Any:
    """A Message for this request."""
    plan = plan_for(ctx)
    return {
        "id": ctx.fresh_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": _model(ctx),
        "content": [b.to_json() for b in plan.blocks],
        "stop_reason": plan.stop_reason,
        "stop_sequence": plan.stop_sequence,
        "usage": _usage(ctx, plan.output_tokens),
    }


def _block_events(index: int, block: Block) -> list[Event]:
    """content_block_start, the deltas that rebuild the block, content_block_stop."""
    start = block.to_json()
    deltas: list[dict[str, Any]] = []
    if block.type == "tool_use":
        start["input"] = {}
        text = json.dumps(block.input, ensure_ascii=False)
        pieces = [""] + [text[i : i + JSON_PIECE] for i in range(0, len(text), JSON_PIECE)]
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
    elif block.type == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": p} for p in split_text(block.text)]
        deltas.append({"type": "signature_delta", "signature": block.signature})
    else:
        start["text"] = ""
        deltas = [{"type": "text_delta", "text": p} for p in split_text(block.text)]
    events = [
        Event(
            {"type": "content_block_start", "index": index, "content_block": start},
            "content_block_start",
        )
    ]
    events += [
        Event({"type": "content_block_delta", "index": index, "delta": d}, "content_block_delta")
        for d in deltas
    ]
    events.append(Event({"type": "content_block_stop", "index": index}, "content_block_stop"))
    return events


def _documents_an_error(ctx: RenderContext) -> bool:
    value = ctx.example.value if ctx.example else None
    return isinstance(value, list) and any(
        isinstance(e, dict) and e.get("event") == "error" for e in value
    )


def render_stream(ctx: RenderContext) -> list[Event]:
    """The named event stream of the Message for this request."""
    if _documents_an_error(ctx):  # e.g. Prefer: example=overloaded-midstream
        events = static.render_stream(ctx)
        for event in events:
            if event.name == "message_start":
                event.data["message"]["id"] = ctx.fresh_id("msg_")
        return events
    plan = plan_for(ctx)
    message: dict[str, Any] = {
        "id": ctx.fresh_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": _model(ctx),
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": _usage(ctx, 1),
    }
    events = [Event({"type": "message_start", "message": message}, "message_start")]
    for index, block in enumerate(plan.blocks):
        block_events = _block_events(index, block)
        if index == 0:
            block_events.insert(1, Event({"type": "ping"}, "ping"))
        events += block_events
    if not plan.blocks:
        events.append(Event({"type": "ping"}, "ping"))
    events.append(
        Event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": plan.stop_reason, "stop_sequence": plan.stop_sequence},
                "usage": {"output_tokens": plan.output_tokens},
            },
            "message_delta",
        )
    )
    events.append(Event({"type": "message_stop"}, "message_stop"))
    return events


def render_count_tokens(ctx: RenderContext) -> Any:
    """POST /v1/messages/count_tokens: the input tokens the request would spend."""
    return {"input_tokens": input_tokens(ctx.body)}


JSON = {"anthropic.message": render_json, "anthropic.count_tokens": render_count_tokens}
STREAM = {"anthropic.message.events": render_stream}
