"""Gemini's native generateContent: a GenerateContentResponse shaped by the request, as one
object, as SSE chunks (``?alt=sse``) or as the JSON array of the same chunks.

plan: per candidate, the parts the model says, from the conversation (``conversation.py``
decides between function calls and text: ``toolConfig.functionCallingConfig`` modes, a call
once per user turn under AUTO, ``functionResponse`` parts answered in text) and the example
(its words, its documented call arguments); ``responseMimeType: application/json`` makes the
text JSON valid for ``responseSchema``.
shape: ``stopSequences`` cut the text where one appears (finishReason STOP, the sequence left
out, as Gemini does); ``maxOutputTokens`` cuts it at the cap (finishReason MAX_TOKENS,
candidatesTokenCount at most the cap; a function call that does not fit is left out);
``candidateCount`` candidates.
write: the response with ``usageMetadata`` (promptTokenCount + candidatesTokenCount =
totalTokenCount), ``modelVersion`` (the model in the path) and a fresh ``responseId``; or the
chunks: each candidate's text in pieces, its function calls in one chunk, its finishReason on
its last chunk, the usage on the last chunk. ``countTokens`` counts the prompt as the answers
count ``promptTokenCount``; the model list and get answer the Gemini models the contracts name.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from contracts.model_names import named_models
from contracts.wire.gemini import MODES, parameters_schema, response_schema
from mockserver import tokens
from mockserver.instances import instance_for
from mockserver.render.chat import FALLBACK_TEXT, split_text
from mockserver.render.context import Event, RenderContext, RenderError
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

JSON_MIME = "application/json"
TOKEN_LIMITS = {"inputTokenLimit": 1_048_576, "outputTokenLimit": 8192}
"""What the model list says of every model (Gemini 2.x flash's limits)."""
METHODS = ["generateContent", "streamGenerateContent", "countTokens"]


@dataclass(slots=True)
class Candidate:
    """What one candidate says before it is written out."""

    text: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    """functionCall objects: name and args."""
    finish: str = "STOP"

    def tokens(self) -> int:
        """Output tokens the candidate spends."""
        args = sum(tokens.count(json.dumps(c["args"], ensure_ascii=False)) for c in self.calls)
        return tokens.count(self.text) + sum(tokens.count(c["name"]) for c in self.calls) + args

    def parts(self) -> list[dict[str, Any]]:
        """The candidate's content parts: its text, then one part per function call."""
        out: list[dict[str, Any]] = [{"text": self.text}] if self.text or not self.calls else []
        return out + [{"functionCall": call} for call in self.calls]


@dataclass(slots=True)
class Plan:
    """The candidates and what the prompt cost."""

    candidates: list[Candidate]
    prompt_tokens: int


# --- reading the request --------------------------------------------------------------------


def _parts(content: Any) -> list[dict[str, Any]]:
    parts = content.get("parts") if isinstance(content, dict) else None
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


def _text(content: Any) -> str:
    return " ".join(str(p["text"]) for p in _parts(content) if isinstance(p.get("text"), str))


def read_turn(contents: Any) -> Turn:
    """Where a Gemini conversation stands: the last user turn that hands back no function
    responses, whether the model called functions since, and the responses given back."""
    items = [c for c in contents if isinstance(c, dict)] if isinstance(contents, list) else []

    def asks(c: dict[str, Any]) -> bool:
        return c.get("role", "user") == "user" and all(
            "functionResponse" not in p for p in _parts(c)
        )

    last_user = max((i for i, c in enumerate(items) if asks(c)), default=-1)
    called = False
    results = []
    for c in items[last_user + 1 :]:
        for p in _parts(c):
            if isinstance(p.get("functionCall"), dict):
                called = True
            response = p.get("functionResponse")
            if isinstance(response, dict):
                called = True
                text = json.dumps(response.get("response"), ensure_ascii=False)
                results.append(ToolResult(str(response.get("name") or ""), text))
    user = _text(items[last_user]) if last_user >= 0 else ""
    return Turn(user, called, tuple(results))


def offered_tools(body: Any) -> list[Tool]:
    """Every function declaration of every tool, with its arguments as JSON Schema."""
    tools = body.get("tools") if isinstance(body, dict) else None
    return [
        Tool(d["name"], parameters_schema(d))
        for t in (tools if isinstance(tools, list) else [])
        if isinstance(t, dict)
        for d in t.get("functionDeclarations") or []
        if isinstance(d, dict) and isinstance(d.get("name"), str)
    ]


def prompt_tokens(body: Any) -> int:
    """Tokens of a request's prompt: system instruction, every part of every turn (a
    function call or response by its JSON, inline data as one picture) and the tools."""
    if not isinstance(body, dict):
        return 0
    total = tokens.count(_text(body.get("systemInstruction")))
    for content in body.get("contents") or []:
        total += 1
        for p in _parts(content):
            if isinstance(p.get("text"), str):
                total += tokens.count(p["text"])
            elif "inlineData" in p or "fileData" in p:
                total += tokens.IMAGE_TOKENS
            else:
                total += tokens.count(json.dumps(p, ensure_ascii=False))
    for t in body.get("tools") or []:
        total += tokens.count(json.dumps(t, ensure_ascii=False))
    return max(total, 1)


def _config(ctx: RenderContext) -> dict[str, Any]:
    config = ctx.field("generationConfig")
    return config if isinstance(config, dict) else {}


def _whole(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() else None


# --- plan -----------------------------------------------------------------------------------


def _example_responses(ctx: RenderContext) -> list[dict[str, Any]]:
    """Every documented response or chunk (the chosen example's first)."""
    chosen = [ctx.example] if ctx.example else []
    found: list[dict[str, Any]] = []
    for example in [*chosen, *ctx.op.response.examples]:
        if not example.servable:
            continue
        value = example.value
        found += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, dict)]
    return found


def _example_text(ctx: RenderContext) -> str:
    value = ctx.example.value if ctx.example else None
    chunks = value if isinstance(value, list) else [value]
    text = "".join(
        str(p["text"])
        for chunk in chunks
        if isinstance(chunk, dict)
        for cand in (chunk.get("candidates") or [])[:1]
        if isinstance(cand, dict)
        for p in _parts(cand.get("content"))
        if isinstance(p.get("text"), str) and not p.get("thought")
    )
    return text or FALLBACK_TEXT


def _documented_args(ctx: RenderContext) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for response in _example_responses(ctx):
        for cand in response.get("candidates") or []:
            for p in _parts(cand.get("content") if isinstance(cand, dict) else None):
                call = p.get("functionCall")
                if isinstance(call, dict):
                    out.setdefault(str(call.get("name")), []).append(call.get("args"))
    return out


def _json_text(ctx: RenderContext, text: str) -> str:
    """JSON text for a JSON answer: the example's when it fits the schema, else an instance
    of the schema (the example's words in an object when no schema is given)."""
    schema = response_schema(_config(ctx))
    documented = json_value(text)
    if schema is None:
        return text if documented is not None else json.dumps({"text": text})
    if documented is not None and valid(ctx.validators, schema, documented):
        return text
    return json.dumps(instance_for(schema), ensure_ascii=False)


def plan_for(ctx: RenderContext) -> Plan:
    """The response for this request, planned then shaped."""
    turn = read_turn(ctx.field("contents"))
    tools = offered_tools(ctx.body)
    calling = ctx.field("toolConfig") or {}
    config = calling.get("functionCallingConfig") if isinstance(calling, dict) else None
    config = config if isinstance(config, dict) else {}
    mode = MODES.get(str(config.get("mode") or "AUTO"), "auto")
    allowed = [n for n in config.get("allowedFunctionNames") or [] if isinstance(n, str)]
    if allowed:
        tools = [t for t in tools if t.name in allowed]
    documented = _documented_args(ctx)
    calls = tools_to_call(
        tools,
        "named" if mode == "required" and len(allowed) == 1 else mode,
        turn,
        named=allowed[0] if len(allowed) == 1 else None,
        preferred=list(documented),
    )
    if calls:
        base = Candidate(
            calls=[
                {"name": t.name, "args": arguments(ctx.validators, t, documented.get(t.name, ()))}
                for t in calls
            ]
        )
    else:
        text = answer(turn.results) if turn.results else _example_text(ctx)
        if _config(ctx).get("responseMimeType") == JSON_MIME:
            text = _json_text(ctx, text)
        base = Candidate(text)
    count = max(1, _whole(_config(ctx).get("candidateCount")) or 1)
    candidates = [_shape(ctx, copy.deepcopy(base)) for _ in range(count)]
    return Plan(candidates, prompt_tokens(ctx.body))


def _shape(ctx: RenderContext, cand: Candidate) -> Candidate:
    config = _config(ctx)
    stops = [s for s in config.get("stopSequences") or [] if isinstance(s, str) and s]
    hits = [cand.text.find(s) for s in stops if s in cand.text]
    if hits:
        cand.text = cand.text[: min(hits)]
    cap = _whole(config.get("maxOutputTokens"))
    if cap is not None and cand.tokens() > cap:
        cand.calls = []  # a call that does not fit is not made
        cand.text = tokens.truncate(cand.text, cap)
        cand.finish = "MAX_TOKENS"
    return cand


# --- write ----------------------------------------------------------------------------------


def _model(ctx: RenderContext) -> str:
    return ctx.path_params.get("model", "").removeprefix("models/") or "gemini"


def _usage(plan: Plan) -> dict[str, int]:
    out = sum(c.tokens() for c in plan.candidates)
    return {
        "promptTokenCount": plan.prompt_tokens,
        "candidatesTokenCount": out,
        "totalTokenCount": plan.prompt_tokens + out,
    }


def _candidate(cand: Candidate, index: int, parts: list[dict[str, Any]], finish: bool) -> Any:
    out: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": index}
    if finish:
        out["finishReason"] = cand.finish
    return out


def render_json(ctx: RenderContext) -> Any:
    """POST .../models/{model}:generateContent."""
    plan = plan_for(ctx)
    return {
        "candidates": [_candidate(c, i, c.parts(), True) for i, c in enumerate(plan.candidates)],
        "usageMetadata": _usage(plan),
        "modelVersion": _model(ctx),
        "responseId": ctx.fresh_id(""),
    }


def chunks_for(ctx: RenderContext) -> list[dict[str, Any]]:
    """The stream's GenerateContentResponse chunks, in order."""
    plan = plan_for(ctx)
    head = {"modelVersion": _model(ctx), "responseId": ctx.fresh_id("")}
    out: list[dict[str, Any]] = []
    for i, cand in enumerate(plan.candidates):
        pieces: list[list[dict[str, Any]]] = [[{"text": p}] for p in split_text(cand.text)]
        if cand.calls:
            pieces.append([{"functionCall": call} for call in cand.calls])
        for k, parts in enumerate(pieces or [[{"text": ""}]]):
            last = k == max(len(pieces), 1) - 1
            out.append({"candidates": [_candidate(cand, i, parts, last)], **head})
    out[-1]["usageMetadata"] = _usage(plan)
    return out


def render_stream(ctx: RenderContext) -> list[Event]:
    """POST .../models/{model}:streamGenerateContent?alt=sse: one data event per chunk."""
    return [Event(chunk) for chunk in chunks_for(ctx)]


def render_array(ctx: RenderContext) -> Any:
    """POST .../models/{model}:streamGenerateContent without alt=sse: the chunks as one array."""
    return chunks_for(ctx)


def render_count(ctx: RenderContext) -> Any:
    """POST .../models/{model}:countTokens: contents alone or a whole generateContentRequest,
    counted as the generate answers count their prompt."""
    inner = ctx.field("generateContentRequest")
    return {"totalTokens": prompt_tokens(inner if isinstance(inner, dict) else ctx.body)}


# --- models ---------------------------------------------------------------------------------


def _entry(model: str) -> dict[str, Any]:
    return {
        "name": f"models/{model}",
        "baseModelId": model,
        "version": "001",
        "displayName": model.replace("-", " ").title(),
        **TOKEN_LIMITS,
        "supportedGenerationMethods": METHODS,
    }


def gemini_models(ctx: RenderContext) -> list[str]:
    """The Gemini models the contracts name (by a request or a path parameter)."""
    if ctx.contracts is None:
        return []
    return [
        m.id
        for m in named_models(ctx.contracts)
        if m.id.startswith("gemini") or any(op.vendor == "google" for op in m.operations)
    ]


def render_models(ctx: RenderContext) -> Any:
    """GET .../models: every Gemini model the contracts name."""
    return {"models": [_entry(m) for m in gemini_models(ctx)]}


def render_model(ctx: RenderContext) -> Any:
    """GET .../models/{model}: a listed model, else Google's 404."""
    model = _model(ctx)
    if model not in gemini_models(ctx):
        raise RenderError(404, f"models/{model} is not found for API version v1beta.")
    return _entry(model)


JSON = {
    "gemini.generate_content": render_json,
    "gemini.stream_array": render_array,
    "gemini.count_tokens": render_count,
    "gemini.models": render_models,
    "gemini.model": render_model,
}
STREAM = {"gemini.stream": render_stream}
