"""OpenAI's Responses API: a Response shaped by the request, as one object or typed events,
and the stored responses behind GET/DELETE /v1/responses/{id} and its input_items.

plan: the items the answer holds, from the conversation (the stored turns of
``previous_response_id``, then this request's ``input``; ``conversation.py`` decides between
function calls and text) and the documented example (its words, its function arguments): a
reasoning item first on reasoning models (a summary when ``reasoning.summary`` asks), then
function_call items, or a message whose text answers the function_call_output items, or the
example's text; ``text.format`` json_schema makes the text JSON valid for the schema.
shape: ``max_output_tokens`` cuts reasoning, then text or arguments, at the cap (as chat.py
cuts at max_completion_tokens: a reasoning model reasons first and thinks until the cap is
spent): status incomplete, ``incomplete_details.reason`` max_output_tokens.
write: the Response, or the named event sequence (``response.created``, ``in_progress``, per
item ``output_item.added`` ... ``output_item.done``, then ``response.completed`` or
``response.incomplete``), each event's ``sequence_number`` one more than the last. A stored
response (``store`` true, the default) is kept by ``mockserver/response_store.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from mockserver import response_store, tokens
from mockserver.instances import instance_for
from mockserver.render.chat import FALLBACK_TEXT, split_text
from mockserver.render.context import Event, JsonRenderer, RenderContext, RenderError
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

REASONING_MODELS = ("o1*", "o3*", "o4*", "gpt-5*", "codex-*")
"""Model globs that reason before they answer (the o-series chat contract's, plus gpt-5)."""
REASONING_TOKENS = {"none": 0, "minimal": 8, "low": 32, "medium": 64, "high": 128, "xhigh": 256}
"""Hidden reasoning tokens a reasoning model spends per ``reasoning.effort`` (default medium)."""
SUMMARY_TEXT = "The user asks something short; a brief, direct answer will do."
"""What a reasoning summary says."""
ARGUMENT_PIECE = 8
"""Characters of function arguments per function_call_arguments.delta."""
PAGE = 20
"""input_items' default page size."""


@dataclass(slots=True)
class Plan:
    """What the response says, before it is written out."""

    text: str | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    """function_call items (id, call_id, name, arguments)."""
    reasoning: int = -1
    """Hidden reasoning tokens; -1: not a reasoning model (no reasoning item)."""
    summary: str | None = None
    incomplete: bool = False

    def output_tokens(self) -> int:
        """Tokens the answer spends: reasoning (and its summary), text, function arguments."""
        args = sum(tokens.count(c["arguments"]) for c in self.calls)
        return self.reasoning_tokens() + tokens.count(self.text) + args

    def reasoning_tokens(self) -> int:
        """Reasoning tokens as usage reports them."""
        return max(0, self.reasoning) + tokens.count(self.summary)


# --- reading the request --------------------------------------------------------------------


def input_items(ctx: RenderContext) -> list[dict[str, Any]]:
    """The request's ``input`` as items with ids (a string is one user message)."""
    value = ctx.field("input")
    raw = [{"role": "user", "content": value}] if isinstance(value, str) else value
    items = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        item = dict(item)
        kind = item.setdefault("type", "message")
        if kind == "message":
            content = item.get("content")
            if isinstance(content, str):
                part = "output_text" if item.get("role") == "assistant" else "input_text"
                item["content"] = [{"type": part, "text": content}]
        prefix = {"message": "msg_", "function_call": "fc_", "reasoning": "rs_"}.get(kind, "item_")
        item.setdefault("id", ctx.fresh_id(prefix))
        items.append(item)
    return items


def read_turn(items: list[dict[str, Any]]) -> Turn:
    """Where a Responses conversation stands: the last user message, the function_call items
    since and the function_call_output items that answer them."""
    last_user = max(
        (
            i
            for i, it in enumerate(items)
            if it.get("type") == "message" and it.get("role") == "user"
        ),
        default=-1,
    )
    names = {
        str(it.get("call_id")): str(it.get("name") or "")
        for it in items
        if it.get("type") == "function_call"
    }
    called = False
    results = []
    for it in items[last_user + 1 :]:
        if it.get("type") == "function_call":
            called = True
        elif it.get("type") == "function_call_output":
            called = True
            output = it.get("output")
            text = output if isinstance(output, str) else tokens.message_text(output)
            results.append(ToolResult(names.get(str(it.get("call_id")), ""), text))
    user = tokens.message_text(items[last_user].get("content")) if last_user >= 0 else ""
    return Turn(user, called, tuple(results))


def offered_tools(ctx: RenderContext) -> list[Tool]:
    """The function tools the request offers, with their parameters schemas."""
    return [
        Tool(t["name"], t.get("parameters") or {"type": "object"})
        for t in ctx.field("tools") or []
        if isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("name"), str)
    ]


def _tool_mode(ctx: RenderContext) -> tuple[str, str | None]:
    """("none" | "auto" | "required" | "named", the named function)."""
    choice = ctx.field("tool_choice", "auto")
    if isinstance(choice, dict):
        name = choice.get("name")
        named = choice.get("type") == "function" and isinstance(name, str)
        return ("named", name) if named else ("auto", None)
    return (choice, None) if choice in ("none", "required") else ("auto", None)


def is_reasoning_model(model: Any) -> bool:
    """True for a model that reasons before it answers."""
    return isinstance(model, str) and any(fnmatchcase(model, g) for g in REASONING_MODELS)


def _documented(ctx: RenderContext) -> dict[str, Any]:
    """The example's Response (a stream example's last lifecycle event carries it)."""
    value = ctx.example.value if ctx.example else {}
    if isinstance(value, list):
        found: dict[str, Any] = {}
        for event in value:
            data = event.get("data") if isinstance(event, dict) else None
            response = data.get("response") if isinstance(data, dict) else None
            if isinstance(response, dict):
                found = response
        return found
    return value if isinstance(value, dict) else {}


def _documented_text(response: dict[str, Any]) -> str | None:
    for item in response.get("output") or []:
        for part in item.get("content") or [] if isinstance(item, dict) else []:
            if isinstance(part, dict) and part.get("type") == "output_text":
                return str(part.get("text") or "")
    return None


# --- plan and shape -------------------------------------------------------------------------


def plan_for(ctx: RenderContext, context: list[dict[str, Any]]) -> Plan:
    """The answer to the conversation ``context`` (stored turns, then this input)."""
    documented = _documented(ctx)
    turn = read_turn(context)
    mode, named = _tool_mode(ctx)
    known: dict[str, list[Any]] = {}
    for item in documented.get("output") or []:
        if isinstance(item, dict) and item.get("type") == "function_call":
            known.setdefault(str(item.get("name")), []).append(json_value(item.get("arguments")))
    tools = offered_tools(ctx)
    calls = tools_to_call(
        tools,
        mode,
        turn,
        named=named,
        parallel=ctx.field("parallel_tool_calls") is not False,
        preferred=list(known),
    )
    plan = Plan()
    if is_reasoning_model(ctx.field("model")):
        options = ctx.field("reasoning") or {}
        effort = options.get("effort") if isinstance(options, dict) else None
        plan.reasoning = REASONING_TOKENS.get(str(effort or "medium"), REASONING_TOKENS["medium"])
        if isinstance(options, dict) and options.get("summary"):
            plan.summary = SUMMARY_TEXT
    if calls:
        plan.calls = [
            {
                "id": ctx.fresh_id("fc_"),
                "call_id": ctx.fresh_id("call_"),
                "name": tool.name,
                "arguments": json.dumps(
                    arguments(ctx.validators, tool, known.get(tool.name, ())), ensure_ascii=False
                ),
            }
            for tool in calls
        ]
    else:
        plan.text = answer(turn.results) if turn.results else _documented_text(documented)
        plan.text = _format(ctx, plan.text or FALLBACK_TEXT)
    _limit(ctx, plan)
    return plan


def _format(ctx: RenderContext, text: str) -> str:
    """The text as ``text.format`` asks: JSON valid for a json_schema, a JSON object."""
    fmt = (ctx.field("text") or {}).get("format") if isinstance(ctx.field("text"), dict) else None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "json_schema" and isinstance(fmt, dict):
        schema = fmt.get("schema") or {"type": "object"}
        parsed = json_value(text)
        if parsed is None or not valid(ctx.validators, schema, parsed):
            return json.dumps(instance_for(schema), ensure_ascii=False)
    elif kind == "json_object" and not isinstance(json_value(text), dict):
        return json.dumps({"answer": text}, ensure_ascii=False)
    return text


def _limit(ctx: RenderContext, plan: Plan) -> None:
    """Cut the answer at max_output_tokens (reasoning first, as chat.py's cap does)."""
    limit = ctx.int_field("max_output_tokens")
    if limit is None or plan.output_tokens() < limit:
        return
    limit = max(0, limit)
    budget = limit
    if plan.reasoning >= 0:  # a reasoning model reasons first: at least one token of the cap
        plan.reasoning = min(plan.reasoning, max(1, budget // 2)) if budget else 0
        budget -= plan.reasoning
        if plan.summary:
            plan.summary = tokens.truncate(plan.summary, budget) or None
            budget -= tokens.count(plan.summary)
    for call in plan.calls:
        call["arguments"] = tokens.truncate(call["arguments"], budget)
        budget -= tokens.count(call["arguments"])
    if plan.text is not None:
        plan.text = tokens.truncate(plan.text, budget)
    if plan.reasoning >= 0:  # a reasoning model thinks until the cap is spent
        plan.reasoning += max(0, limit - plan.output_tokens())
    plan.incomplete = True


def _input_tokens(ctx: RenderContext, context: list[dict[str, Any]]) -> int:
    """Tokens of the instructions, every item of the conversation and the tool definitions."""
    total = tokens.count(
        ctx.field("instructions") if isinstance(ctx.field("instructions"), str) else None
    )
    for item in context:
        total += 3 + tokens.count(tokens.message_text(item.get("content")))
        for key in ("name", "arguments", "output"):
            value = item.get(key)
            total += tokens.count(value if isinstance(value, str) else tokens.message_text(value))
    tools = ctx.field("tools")
    if isinstance(tools, list) and tools:
        total += tokens.count(json.dumps(tools, ensure_ascii=False))
    return total + 3


# --- write ----------------------------------------------------------------------------------


def output_items(ctx: RenderContext, plan: Plan) -> list[dict[str, Any]]:
    """The Response's output items, finished."""
    status = "incomplete" if plan.incomplete else "completed"
    items: list[dict[str, Any]] = []
    if plan.reasoning >= 0:
        summary = [{"type": "summary_text", "text": plan.summary}] if plan.summary else []
        items.append({"id": ctx.fresh_id("rs_"), "type": "reasoning", "summary": summary})
    for call in plan.calls:
        items.append({**call, "type": "function_call", "status": status})
    if plan.text is not None and (plan.text or not plan.incomplete):
        items.append(
            {
                "id": ctx.fresh_id("msg_"),
                "type": "message",
                "status": status,
                "role": "assistant",
                "content": [{"type": "output_text", "text": plan.text, "annotations": []}],
            }
        )
    return items


def _response(
    ctx: RenderContext, response_id: str, plan: Plan, output: list[dict[str, Any]], usage: Any
) -> dict[str, Any]:
    text = ctx.field("text")
    reasoning = ctx.field("reasoning")
    parallel = ctx.field("parallel_tool_calls")
    model = ctx.field("model")
    return {
        "id": response_id,
        "object": "response",
        "created_at": ctx.now,
        "status": "incomplete" if plan.incomplete else "completed",
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if plan.incomplete else None,
        "instructions": ctx.field("instructions"),
        "max_output_tokens": ctx.int_field("max_output_tokens"),
        "model": model if isinstance(model, str) else "relaykit-mock",
        "output": output,
        "parallel_tool_calls": parallel if isinstance(parallel, bool) else True,
        "previous_response_id": ctx.field("previous_response_id"),
        "reasoning": reasoning
        if isinstance(reasoning, dict)
        else {"effort": None, "summary": None},
        "store": ctx.field("store") is not False,
        "temperature": ctx.field("temperature", 1.0),
        "text": text if isinstance(text, dict) else {"format": {"type": "text"}},
        "tool_choice": ctx.field("tool_choice") or "auto",
        "tools": ctx.field("tools") or [],
        "top_p": ctx.field("top_p", 1.0),
        "truncation": ctx.field("truncation") or "disabled",
        "usage": usage,
        "user": ctx.field("user"),
        "metadata": ctx.field("metadata") or {},
    }


def _answer(ctx: RenderContext) -> tuple[Plan, dict[str, Any]]:
    """Plan this request's answer, write its Response and keep it when ``store`` allows."""
    previous = ctx.field("previous_response_id")
    before: list[dict[str, Any]] = []
    if isinstance(previous, str) and previous:
        stored = response_store.load(ctx.store, previous)
        if stored is None:
            message = f"Previous response with id '{previous}' not found."
            raise RenderError(400, message, "previous_response_id", "previous_response_not_found")
        before = list(stored.get("context") or [])
    given = input_items(ctx)
    context = before + given
    plan = plan_for(ctx, context)
    output = output_items(ctx, plan)
    inputs, outputs = _input_tokens(ctx, context), plan.output_tokens()
    usage = {
        "input_tokens": inputs,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": outputs,
        "output_tokens_details": {"reasoning_tokens": plan.reasoning_tokens()},
        "total_tokens": inputs + outputs,
    }
    response = _response(ctx, ctx.fresh_id("resp_"), plan, output, usage)
    if response["store"]:
        document = {"response": response, "input_items": given, "context": context + output}
        response_store.save(ctx.store, response["id"], document)
    return plan, response


def render_json(ctx: RenderContext) -> Any:
    """POST /v1/responses: the Response."""
    return _answer(ctx)[1]


def render_stream(ctx: RenderContext) -> list[Event]:
    """POST /v1/responses with stream: the typed events, sequence numbers counting up."""
    plan, final = _answer(ctx)
    start = {**final, "status": "in_progress", "incomplete_details": None, "output": []}
    start["usage"] = None
    events: list[Event] = []

    def emit(kind: str, **data: Any) -> None:
        events.append(Event({"type": kind, "sequence_number": len(events), **data}, kind))

    emit("response.created", response=start)
    emit("response.in_progress", response=start)
    for index, item in enumerate(final["output"]):
        _item_events(emit, index, item)
    terminal = "response.incomplete" if plan.incomplete else "response.completed"
    emit(terminal, response=final)
    return events


def _item_events(emit: Any, index: int, item: dict[str, Any]) -> None:
    """output_item.added, what the item's kind streams, output_item.done."""
    kind = item["type"]
    where = {"item_id": item["id"], "output_index": index}
    if kind == "message":
        emit(
            "response.output_item.added",
            output_index=index,
            item={**item, "status": "in_progress", "content": []},
        )
        for k, part in enumerate(item["content"]):
            at = {**where, "content_index": k}
            emit("response.content_part.added", **at, part={**part, "text": ""})
            for piece in split_text(part["text"]):
                emit("response.output_text.delta", **at, delta=piece, logprobs=[])
            emit("response.output_text.done", **at, text=part["text"], logprobs=[])
            emit("response.content_part.done", **at, part=part)
    elif kind == "function_call":
        emit(
            "response.output_item.added",
            output_index=index,
            item={**item, "status": "in_progress", "arguments": ""},
        )
        args = item["arguments"]
        for j in range(0, len(args), ARGUMENT_PIECE):
            emit(
                "response.function_call_arguments.delta",
                **where,
                delta=args[j : j + ARGUMENT_PIECE],
            )
        emit("response.function_call_arguments.done", **where, arguments=args)
    else:  # reasoning
        emit("response.output_item.added", output_index=index, item={**item, "summary": []})
        for k, part in enumerate(item["summary"]):
            at = {**where, "summary_index": k}
            emit("response.reasoning_summary_part.added", **at, part={**part, "text": ""})
            for piece in split_text(part["text"]):
                emit("response.reasoning_summary_text.delta", **at, delta=piece)
            emit("response.reasoning_summary_text.done", **at, text=part["text"])
            emit("response.reasoning_summary_part.done", **at, part=part)
    emit("response.output_item.done", output_index=index, item=item)


# --- stored responses -----------------------------------------------------------------------


def _stored(ctx: RenderContext) -> tuple[str, dict[str, Any]]:
    response_id = ctx.path_params.get("response_id", "")
    document = response_store.load(ctx.store, response_id) if response_id else None
    if not isinstance(document, dict):
        raise RenderError(404, f"Response with id '{response_id}' not found.")
    return response_id, document


def render_retrieve(ctx: RenderContext) -> Any:
    """GET /v1/responses/{response_id}: the stored Response."""
    return _stored(ctx)[1]["response"]


def render_delete(ctx: RenderContext) -> Any:
    """DELETE /v1/responses/{response_id}: forget it."""
    response_id, _ = _stored(ctx)
    if not response_store.delete(ctx.store, response_id):
        raise RenderError(404, f"Response with id '{response_id}' not found.")
    return {"id": response_id, "object": "response", "deleted": True}


def render_input_items(ctx: RenderContext) -> Any:
    """GET /v1/responses/{response_id}/input_items: one page of the response's input items."""
    _, document = _stored(ctx)
    items = list(document.get("input_items") or [])
    if ctx.query.get("order", "desc") != "asc":
        items.reverse()
    after = ctx.query.get("after")
    if after:
        ids = [it.get("id") for it in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    try:
        limit = min(100, max(1, int(ctx.query.get("limit", PAGE))))
    except ValueError:
        raise RenderError(400, "limit must be an integer from 1 to 100.", "limit") from None
    page = items[:limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0].get("id") if page else None,
        "last_id": page[-1].get("id") if page else None,
        "has_more": len(items) > limit,
    }


JSON: dict[str, JsonRenderer] = {
    "responses.response": render_json,
    "responses.retrieve": render_retrieve,
    "responses.delete": render_delete,
    "responses.input_items": render_input_items,
}
STREAM = {"responses.events": render_stream}
