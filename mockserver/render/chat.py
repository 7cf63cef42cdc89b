"""OpenAI chat completions: the example, bent to what the request asked for.

The example (a chat.completion or a list of chunks) is reduced to a plan per choice (text,
reasoning, tool calls, finish reason); the request then shapes it (the conversation decides
between tool calls and text, see conversation.py; then response_format, stop, max_tokens, n)
and the plan is written as one JSON object or as a chunk stream.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field, replace
from itertools import zip_longest
from typing import Any

from mockserver import tokens
from mockserver.files import FILES_PREFIX, SERVED_KINDS
from mockserver.instances import instance_for
from mockserver.render.context import Event, RenderContext
from mockserver.render.conversation import (
    Tool,
    ToolResult,
    Turn,
    answer,
    arguments,
    json_value,
    tools_to_call,
    valid,
)

FALLBACK_TEXT = "Hello! This is the relaykit mock answering."


@dataclass(slots=True)
class Choice:
    """What one choice says, before it is written out."""

    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str = "stop"
    audio: dict[str, Any] | None = None
    hidden_reasoning: int = 0

    def completion_tokens(self) -> int:
        """Tokens this choice spends: visible text, reasoning, tool arguments."""
        args = sum(tokens.count(tc["function"]["arguments"]) for tc in self.tool_calls)
        return (
            tokens.count(self.content) + tokens.count(self.reasoning) + args + self.hidden_reasoning
        )


@dataclass(slots=True)
class Plan:
    """Every choice plus the fields shared by the whole response."""

    choices: list[Choice]
    system_fingerprint: str | None = None


def plan_from_completion(value: Any) -> Plan:
    """Read a chat.completion example."""
    choices = []
    reasoning_tokens = _reasoning_tokens(value.get("usage"))
    for c in value.get("choices", []):
        msg = c.get("message", {})
        reasoning = msg.get("reasoning_content")
        choices.append(
            Choice(
                content=msg.get("content"),
                reasoning=reasoning,
                tool_calls=copy.deepcopy(msg.get("tool_calls") or []),
                finish_reason=c.get("finish_reason") or "stop",
                audio=copy.deepcopy(msg.get("audio")),
                hidden_reasoning=0 if reasoning else reasoning_tokens,
            )
        )
    return Plan(choices or [Choice(FALLBACK_TEXT)], value.get("system_fingerprint"))


def plan_from_chunks(events: list[Any]) -> Plan:
    """Read a stream example: join each choice's deltas back together."""
    by_index: dict[int, Choice] = {}
    calls: dict[int, dict[int, dict[str, Any]]] = {}
    fingerprint = None
    reasoning_tokens = 0
    for chunk in events:
        fingerprint = fingerprint or chunk.get("system_fingerprint")
        reasoning_tokens = reasoning_tokens or _reasoning_tokens(chunk.get("usage"))
        for c in chunk.get("choices", []):
            choice = by_index.setdefault(c.get("index", 0), Choice())
            delta = c.get("delta") or {}
            if delta.get("content") is not None:
                choice.content = (choice.content or "") + delta["content"]
            if delta.get("reasoning_content"):
                choice.reasoning = (choice.reasoning or "") + delta["reasoning_content"]
            for tc in delta.get("tool_calls") or []:
                slot = calls.setdefault(c.get("index", 0), {}).setdefault(
                    tc.get("index", 0),
                    {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
                )
                slot["id"] = tc.get("id") or slot["id"]
                fn = tc.get("function") or {}
                slot["function"]["name"] += fn.get("name") or ""
                slot["function"]["arguments"] += fn.get("arguments") or ""
            if c.get("finish_reason"):
                choice.finish_reason = c["finish_reason"]
    for index, slots in calls.items():
        by_index[index].tool_calls = [slots[k] for k in sorted(slots)]
    choices = [
        replace(c, hidden_reasoning=0 if c.reasoning else reasoning_tokens)
        for c in (by_index[i] for i in sorted(by_index))
    ]
    return Plan(choices or [Choice(FALLBACK_TEXT)], fingerprint)


def _reasoning_tokens(usage: Any) -> int:
    """The example's usage.completion_tokens_details.reasoning_tokens (hidden reasoning, for
    a choice that shows no reasoning_content: a model that shows its reasoning shows it all)."""
    if not isinstance(usage, dict):
        return 0
    details = usage.get("completion_tokens_details") or {}
    return int(details.get("reasoning_tokens") or 0)


def plan_for(ctx: RenderContext) -> Plan:
    """The plan for this request: example read, then shaped by the request."""
    value = ctx.example.value if ctx.example else {}
    plan = plan_from_chunks(value) if isinstance(value, list) else plan_from_completion(value)
    serve_links(ctx, plan)
    n = ctx.int_field("n") or 1
    base = plan.choices
    # the plan was read afresh for this request (its lists copied from the example), so each
    # of its choices is shaped as it is; n beyond them reuses them, copied before any is shaped
    again = [copy.deepcopy(base[i % len(base)]) for i in range(len(base), n)]
    choices = [_shape(ctx, c) for c in (*base[:n], *again)]
    return Plan(choices, plan.system_fingerprint)


_PLACEHOLDER_LINK = re.compile(r"https://cdn\.relaykit\.example/[^\s()<>\[\]\"']+")


def serve_links(ctx: RenderContext, plan: Plan) -> None:
    """Point the examples' placeholder media links (cdn.relaykit.example) at files served here.

    ``https://cdn.relaykit.example/<path>/<stem>.<ext>`` in message content becomes
    ``<base>/_relaykit/files/<stem>-<n>.<ext>`` when files.py serves that kind; one URL keeps
    one served URL throughout the answer. Other kinds keep the documented link.
    """
    served: dict[str, str] = {}

    def swap(m: re.Match[str]) -> str:
        url = m.group(0)
        if url not in served:
            stem, _, ext = url.split("?", 1)[0].rsplit("/", 1)[-1].rpartition(".")
            if not stem or ext.lower() not in SERVED_KINDS:
                return url
            base = ctx.base_url.rstrip("/")
            served[url] = f"{base}{FILES_PREFIX}{stem}-{len(served)}.{ext.lower()}"
        return served[url]

    for choice in plan.choices:
        if choice.content:
            choice.content = _PLACEHOLDER_LINK.sub(swap, choice.content)


def read_turn(messages: Any) -> Turn:
    """Where an OpenAI conversation stands: the last user message and what followed it
    (assistant tool calls, ``role: tool`` results, legacy ``role: function`` results)."""
    items = [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
    last_user = max((i for i, m in enumerate(items) if m.get("role") == "user"), default=-1)
    names: dict[str, str] = {}  # tool call id -> the function it called
    for m in items:
        calls = m.get("tool_calls") if m.get("role") == "assistant" else None
        for tc in calls if isinstance(calls, list) else []:
            if isinstance(tc, dict) and isinstance(tc.get("function"), dict):
                names[str(tc.get("id"))] = str(tc["function"].get("name") or "")
    called = False
    results = []
    for m in items[last_user + 1 :]:
        role = m.get("role")
        if role == "assistant" and (m.get("tool_calls") or m.get("function_call")):
            called = True
        elif role in ("tool", "function"):
            called = True
            name = names.get(str(m.get("tool_call_id")), "") or str(m.get("name") or "")
            results.append(ToolResult(name, tokens.message_text(m.get("content"))))
    user = tokens.message_text(items[last_user].get("content")) if last_user >= 0 else ""
    return Turn(user, called, tuple(results))


def offered_tools(ctx: RenderContext) -> list[Tool]:
    """The function tools the request offers, with their parameters schemas."""
    out = []
    for t in ctx.field("tools") or []:
        fn = t.get("function") if isinstance(t, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            out.append(Tool(fn["name"], fn.get("parameters") or {"type": "object"}))
    return out


def _tool_mode(ctx: RenderContext) -> tuple[str, str | None]:
    """("none" | "auto" | "required" | "named", the named function)."""
    choice = ctx.field("tool_choice", "auto")
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        return ("named", name) if isinstance(name, str) else ("auto", None)
    return (choice, None) if choice in ("none", "required") else ("auto", None)


def _shape(ctx: RenderContext, choice: Choice) -> Choice:
    turn = read_turn(ctx.field("messages"))
    mode, named = _tool_mode(ctx)
    calls = tools_to_call(
        offered_tools(ctx),
        mode,
        turn,
        named=named,
        parallel=ctx.field("parallel_tool_calls") is not False,
        preferred=[tc["function"]["name"] for tc in choice.tool_calls],
    )
    if calls:
        _call_tools(ctx, choice, calls)
    else:
        if turn.results:
            choice.content = answer(turn.results)
        elif choice.tool_calls:
            choice.content = choice.content or FALLBACK_TEXT
        if choice.tool_calls or choice.finish_reason == "tool_calls":
            choice.tool_calls, choice.finish_reason = [], "stop"
        _format(ctx, choice)
        _stop(ctx, choice)
    _limit(ctx, choice)
    return choice


def _call_tools(ctx: RenderContext, choice: Choice, calls: list[Tool]) -> None:
    """Replace the choice's answer by calls to these tools, arguments valid for each."""
    documented: dict[str, list[Any]] = {}
    for tc in choice.tool_calls:
        documented.setdefault(tc["function"]["name"], []).append(
            json_value(tc["function"]["arguments"])
        )
    choice.tool_calls = [
        {
            "id": ctx.fresh_id("call_"),
            "type": "function",
            "function": {
                "name": tool.name,
                "arguments": json.dumps(
                    arguments(ctx.validators, tool, documented.get(tool.name, ())),
                    ensure_ascii=False,
                ),
            },
        }
        for tool in calls
    ]
    choice.content, choice.finish_reason = None, "tool_calls"


def _format(ctx: RenderContext, choice: Choice) -> None:
    fmt = ctx.field("response_format") or {}
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    text = choice.content or ""
    if kind == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {"type": "object"}
        parsed = json_value(text)
        if parsed is None or not valid(ctx.validators, schema, parsed):
            choice.content = json.dumps(instance_for(schema), ensure_ascii=False)
    elif kind == "json_object":
        try:
            ok = isinstance(json.loads(text), dict)
        except ValueError:
            ok = False
        if not ok:
            choice.content = json.dumps({"answer": text}, ensure_ascii=False)


def _stop(ctx: RenderContext, choice: Choice) -> None:
    stop = ctx.field("stop")
    stops = [stop] if isinstance(stop, str) else [s for s in stop or [] if isinstance(s, str)]
    text = choice.content
    if not text or not stops:
        return
    cut = min((text.find(s) for s in stops if s and s in text), default=-1)
    if cut >= 0:
        choice.content, choice.finish_reason = text[:cut], "stop"


def _limit(ctx: RenderContext, choice: Choice) -> None:
    limit = _cap(ctx)
    # At the cap the model never got to end on its own: OpenAI says "length" there too.
    if limit is None or choice.completion_tokens() < limit:
        return
    budget = limit
    # a reasoning model reasons first: at least one token of the cap goes to reasoning
    choice.hidden_reasoning = min(choice.hidden_reasoning, max(1, budget // 2)) if budget else 0
    budget -= choice.hidden_reasoning
    if choice.reasoning:
        choice.reasoning = tokens.truncate(choice.reasoning, budget)
        budget -= tokens.count(choice.reasoning)
    if choice.tool_calls:
        for tc in choice.tool_calls:
            tc["function"]["arguments"] = tokens.truncate(tc["function"]["arguments"], budget)
            budget -= tokens.count(tc["function"]["arguments"])
    elif choice.content is not None:
        choice.content = tokens.truncate(choice.content, budget)
    if choice.hidden_reasoning:  # a reasoning model thinks until the cap is spent
        choice.hidden_reasoning += max(0, limit - choice.completion_tokens())
    choice.finish_reason = "length"


def _cap(ctx: RenderContext) -> int | None:
    """The completion token cap: max_completion_tokens, else max_tokens (0 and below: 0)."""
    limit = ctx.int_field("max_completion_tokens")
    if limit is None:
        limit = ctx.int_field("max_tokens")
    return None if limit is None else max(0, limit)


def usage_for(ctx: RenderContext, plan: Plan) -> dict[str, Any]:
    """Usage that adds up: prompt from the messages, completion from what was written."""
    prompt = tokens.prompt_tokens(ctx.field("messages"))
    completion = sum(c.completion_tokens() for c in plan.choices)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    reasoning = sum(c.hidden_reasoning + tokens.count(c.reasoning) for c in plan.choices)
    if reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage


def _model(ctx: RenderContext) -> str:
    model = ctx.field("model")
    return model if isinstance(model, str) else "relaykit-mock"


def render_json(ctx: RenderContext) -> Any:
    """A chat.completion for this request."""
    plan = plan_for(ctx)
    choices = []
    for i, c in enumerate(plan.choices):
        message: dict[str, Any] = {"role": "assistant", "content": c.content}
        if c.reasoning:
            message["reasoning_content"] = c.reasoning
        if c.tool_calls:
            message["tool_calls"] = c.tool_calls
        if c.audio:
            message["audio"] = {
                **c.audio,
                "id": ctx.fresh_id("audio_"),
                "expires_at": ctx.now + 3600,
            }
        choices.append(
            {"index": i, "message": message, "logprobs": None, "finish_reason": c.finish_reason}
        )
    body: dict[str, Any] = {
        "id": ctx.fresh_id("chatcmpl-"),
        "object": "chat.completion",
        "created": ctx.now,
        "model": _model(ctx),
        "choices": choices,
        "usage": usage_for(ctx, plan),
    }
    if plan.system_fingerprint:
        body["system_fingerprint"] = plan.system_fingerprint
    return body


_PIECE = re.compile(r"\S+\s*|\s+")


def split_text(text: str, words: int = 3, max_chars: int = 12) -> list[str]:
    """Cut text into stream-sized pieces that join back to the same text."""
    pieces: list[str] = []
    parts = _PIECE.findall(text)
    for i in range(0, len(parts), words):
        piece = "".join(parts[i : i + words])
        while len(piece) > max_chars * 2:
            pieces.append(piece[:max_chars])
            piece = piece[max_chars:]
        pieces.append(piece)
    return pieces


def _choice_deltas(c: Choice) -> list[tuple[dict[str, Any], str | None]]:
    text_mode = not c.tool_calls
    out: list[tuple[dict[str, Any], str | None]] = [
        ({"role": "assistant", "content": "" if text_mode else None}, None)
    ]
    out += [({"reasoning_content": p}, None) for p in split_text(c.reasoning or "")]
    out += [({"content": p}, None) for p in split_text(c.content or "")]
    for k, tc in enumerate(c.tool_calls):
        fn = tc["function"]
        out.append(
            (
                {
                    "tool_calls": [
                        {
                            "index": k,
                            "id": tc["id"],
                            "type": "function",
                            "function": {"name": fn["name"], "arguments": ""},
                        }
                    ]
                },
                None,
            )
        )
        args = fn["arguments"]
        out += [
            ({"tool_calls": [{"index": k, "function": {"arguments": args[j : j + 8]}}]}, None)
            for j in range(0, len(args), 8)
        ]
    out.append(({}, c.finish_reason))
    return out


def render_stream(ctx: RenderContext) -> list[Event]:
    """The chunk stream: role first, pieces, one finish_reason per choice, usage iff asked."""
    plan = plan_for(ctx)
    include_usage = bool((ctx.field("stream_options") or {}).get("include_usage"))
    head: dict[str, Any] = {
        "id": ctx.fresh_id("chatcmpl-"),
        "object": "chat.completion.chunk",
        "created": ctx.now,
        "model": _model(ctx),
    }
    if plan.system_fingerprint:
        head["system_fingerprint"] = plan.system_fingerprint
    per_choice = [_choice_deltas(c) for c in plan.choices]
    events: list[Event] = []
    for row in zip_longest(*per_choice):
        for index, item in enumerate(row):
            if item is None:
                continue
            delta, finish = item
            chunk = {
                **head,
                "choices": [
                    {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            if include_usage:
                chunk["usage"] = None
            events.append(Event(chunk))
    if include_usage:
        events.append(Event({**head, "choices": [], "usage": usage_for(ctx, plan)}))
    return events
