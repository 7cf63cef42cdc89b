"""Legacy /v1/completions: text_completion objects, plain or streamed."""

from __future__ import annotations

from typing import Any

from mockserver import tokens
from mockserver.render.chat import FALLBACK_TEXT, split_text
from mockserver.render.context import Event, RenderContext


def _prompts(ctx: RenderContext) -> list[str]:
    """The prompts of the request as text: a string, a list of strings, a list of token ids
    (one prompt; JSON Schema counts 167.0 as an integer too), or a list of token-id lists."""
    prompt = ctx.field("prompt", "")
    if isinstance(prompt, list) and prompt and not all(_token(p) for p in prompt):
        return [_text(p) for p in prompt]
    return [_text(prompt)]


def _token(item: object) -> bool:
    return isinstance(item, int | float) and not isinstance(item, bool)


def _text(prompt: object) -> str:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):
        return " ".join(map(str, prompt))
    return str(prompt)


def _example_text(ctx: RenderContext) -> str:
    value = ctx.example.value if ctx.example else None
    if isinstance(value, dict) and value.get("choices"):
        return str(value["choices"][0].get("text", FALLBACK_TEXT))
    if isinstance(value, list):
        return (
            "".join(c.get("text", "") for e in value for c in e.get("choices", [])) or FALLBACK_TEXT
        )
    return FALLBACK_TEXT


def _choices(ctx: RenderContext) -> list[tuple[str, str]]:
    """(text, finish_reason) for each prompt times n, in OpenAI's order."""
    text = _example_text(ctx)
    n = ctx.int_field("n") or 1
    stop = ctx.field("stop")
    stops = [stop] if isinstance(stop, str) else [s for s in stop or [] if s]
    limit = ctx.int_field("max_tokens")
    out = []
    for _ in _prompts(ctx):
        for _ in range(n):
            t, finish = text, "stop"
            cuts = [t.find(s) for s in stops if s in t]
            if cuts:
                t = t[: min(cuts)]
            if limit is not None and tokens.count(t) >= limit:
                t, finish = tokens.truncate(t, limit), "length"
            out.append((t, finish))
    return out


def _usage(ctx: RenderContext, choices: list[tuple[str, str]]) -> dict[str, int]:
    prompt = sum(tokens.count(p) for p in _prompts(ctx))
    completion = sum(tokens.count(t) for t, _ in choices)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _head(ctx: RenderContext) -> dict[str, Any]:
    model = ctx.field("model")
    return {
        "id": ctx.fresh_id("cmpl-"),
        "object": "text_completion",
        "created": ctx.now,
        "model": model if isinstance(model, str) else "relaykit-mock",
    }


def render_json(ctx: RenderContext) -> Any:
    """A text_completion for this request."""
    choices = _choices(ctx)
    return {
        **_head(ctx),
        "choices": [
            {"index": i, "text": t, "logprobs": None, "finish_reason": f}
            for i, (t, f) in enumerate(choices)
        ],
        "usage": _usage(ctx, choices),
    }


def render_stream(ctx: RenderContext) -> list[Event]:
    """text_completion chunks, one finish_reason per choice, usage iff asked."""
    choices = _choices(ctx)
    head = _head(ctx)
    include_usage = bool((ctx.field("stream_options") or {}).get("include_usage"))
    events = []
    for i, (text, finish) in enumerate(choices):
        for piece in split_text(text):
            events.append(
                Event(
                    {
                        **head,
                        "choices": [
                            {"index": i, "text": piece, "logprobs": None, "finish_reason": None}
                        ],
                    }
                )
            )
        events.append(
            Event(
                {
                    **head,
                    "choices": [
                        {"index": i, "text": "", "logprobs": None, "finish_reason": finish}
                    ],
                }
            )
        )
    if include_usage:
        events.append(Event({**head, "choices": [], "usage": _usage(ctx, choices)}))
    return events
