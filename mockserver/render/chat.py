"""OpenAI chat completions: the example, bent to what the request asked for.

The example (a chat.completion or a list of chunks) is reduced to a plan per choice (text,
reasoning, tool calls, finish reason); the request then shapes it (tools, response_format,
stop, max_tokens, n) and the plan is written as one JSON object or as a chunk stream.
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
    hidden = _hidden_reasoning(value.get("usage"))
    for c in value.get("choices", []):
        msg = c.get("message", {})
        choices.append(
            Choice(
                content=msg.get("content"),
                reasoning=msg.get("reasoning_content"),
                tool_calls=copy.deepcopy(msg.get("tool_calls") or []),
                finish_reason=c.get("finish_reason") or "stop",
                audio=copy.deepcopy(msg.get("audio")),
                hidden_reasoning=hidden,
            )
        )
    return Plan(choices or [Choice(FALLBACK_TEXT)], value.get("system_fingerprint"))


def plan_from_chunks(events: list[Any]) -> Plan:
    """Read a stream example: join each choice's deltas back together."""
    by_index: dict[int, Choice] = {}
    calls: dict[int, dict[int, dict[str, Any]]] = {}
    fingerprint = None
    hidden = 0
    for chunk in events:
        fingerprint = fingerprint or chunk.get("system_fingerprint")
        hidden = hidden or _hidden_reasoning(chunk.get("usage"))
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
    choices = [replace(by_index[i], hidden_reasoning=hidden) for i in sorted(by_index)]
    return Plan(choices or [Choice(FALLBACK_TEXT)], fingerprint)


def _hidden_reasoning(usage: Any) -> int:
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
    choices = [_shape(ctx, copy.deepcopy(base[i % len(base)])) for i in range(n)]
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


def _shape(ctx: RenderContext, choice: Choice) -> Choice:
    tools = ctx.field("tools") or []
    tool_choice = ctx.field("tool_choice", "auto")
    if tools and tool_choice != "none":
        _call_tool(ctx, choice, tools, tool_choice)
    elif choice.tool_calls:
        choice.tool_calls, choice.finish_reason = [], "stop"
        choice.content = choice.content or FALLBACK_TEXT
    if not choice.tool_calls:
        _format(ctx, choice)
        _stop(ctx, choice)
    _limit(ctx, choice)
    return choice


def _call_tool(ctx: RenderContext, choice: Choice, tools: list[Any], tool_choice: Any) -> None:
    names = [t["function"]["name"] for t in tools]
    wanted = tool_choice["function"]["name"] if isinstance(tool_choice, dict) else None
    known = next((tc for tc in choice.tool_calls if tc["function"]["name"] in names), None)
    name = wanted or (known["function"]["name"] if known else names[0])
    params = (
        next(
            t["function"].get("parameters") or {"type": "object"}
            for t in tools
            if t["function"]["name"] == name
        )
        if name in names
        else {"type": "object"}
    )
    args = None
    if (
        known
        and known["function"]["name"] == name
        and _valid_json(ctx, known["function"]["arguments"], params)
    ):
        args = known["function"]["arguments"]
    if args is None:
        args = json.dumps(instance_for(params), ensure_ascii=False)
    choice.tool_calls = [
        {
            "id": ctx.fresh_id("call_"),
            "type": "function",
            "function": {"name": name, "arguments": args},
        }
    ]
    choice.content, choice.finish_reason = None, "tool_calls"


def _valid_json(ctx: RenderContext, text: str, schema: Any) -> bool:
    try:
        return ctx.validators.is_valid(schema, json.loads(text))
    except (ValueError, TypeError):
        return False


def _format(ctx: RenderContext, choice: Choice) -> None:
    fmt = ctx.field("response_format") or {}
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    text = choice.content or ""
    if kind == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {"type": "object"}
        if not _valid_json(ctx, text, schema):
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
    limit = ctx.int_field("max_completion_tokens") or ctx.int_field("max_tokens")
    # At the cap the model never got to end on its own: OpenAI says "length" there too.
    if limit is None or choice.completion_tokens() < limit:
        return
    budget = limit
    # a reasoning model reasons first: at least one token of the cap goes to reasoning
    choice.hidden_reasoning = min(choice.hidden_reasoning, max(1, budget // 2))
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
