"""A conversation's next move, whatever the wire format: call tools, or answer their results.

chat.py (OpenAI messages) and anthropic.py (Anthropic content blocks) each read their request
into a ``Turn`` and their tool definitions into ``Tool``s; this module decides what a model
would do next, the way an agent loop needs it to end:

- ``tool_choice`` none: never call; a named tool: call it; required / any: call;
- auto: call once per user turn. Once the model has called tools since the last user message,
  it answers their results in text (else an agent loop would never end);
- which tools: those the user's last message names (a word of the tool's name, ``weather`` for
  ``get_weather``), all of them in parallel when parallel calls are allowed; none named, the
  one the example called, else the first offered;
- arguments: the documented example's when they fit the tool's schema, else a small instance
  built from the schema, always valid against it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from contracts.validation import Validators, standalone
from mockserver.instances import instance_for

RESULT_CHARS = 400
"""How much of one tool result the answer quotes."""

_GENERIC = frozenset(
    {"get", "set", "fetch", "find", "list", "search", "lookup", "query", "call", "run", "tool"}
)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool the request offers: its name and the JSON Schema of its arguments."""

    name: str
    schema: Any = field(default_factory=lambda: {"type": "object"})


@dataclass(frozen=True, slots=True)
class ToolResult:
    """One tool result the request hands back: the tool's name ("" when unknown) and text."""

    name: str
    text: str


@dataclass(frozen=True, slots=True)
class Turn:
    """Where the conversation stands: the user's last words and what happened since."""

    user_text: str = ""
    called: bool = False
    """The model already called tools since the last user message."""
    results: tuple[ToolResult, ...] = ()
    """Tool results given since the last user message, in order."""


def tools_to_call(
    tools: Sequence[Tool],
    mode: str,
    turn: Turn,
    *,
    named: str | None = None,
    parallel: bool = True,
    preferred: Iterable[str] = (),
) -> list[Tool]:
    """The tools the model calls now (empty: it answers in text).

    ``mode`` is none, auto, required (Anthropic's any) or named (``named`` gives the name);
    ``preferred`` are names the documented example calls, tried when the user names none.
    """
    if not tools or mode == "none":
        return []
    if mode == "named":
        return [next((t for t in tools if t.name == named), Tool(named or tools[0].name))]
    if mode == "auto" and turn.called:
        return []
    fit = fitting(tools, turn.user_text)
    if not fit:
        wanted = [t for name in preferred for t in tools if t.name == name]
        fit = wanted[:1] or [tools[0]]
    return fit if parallel else fit[:1]


def fitting(tools: Sequence[Tool], text: str) -> list[Tool]:
    """The tools a word of whose name the text mentions (``weather`` for ``get_weather``)."""
    said = {w.lower() for w in _WORD.findall(text)}
    out = []
    for tool in tools:
        words = {w.lower() for w in _WORD.findall(tool.name)} - _GENERIC
        if any(len(w) > 2 and (w in said or f"{w}s" in said) for w in words):
            out.append(tool)
    return out


def arguments(validators: Validators, tool: Tool, candidates: Iterable[Any] = ()) -> Any:
    """Arguments for a call: the first candidate valid against the tool's schema, else an
    instance built from the schema."""
    for value in candidates:
        if valid(validators, tool.schema, value):
            return value
    return instance_for(tool.schema)


def valid(validators: Validators, schema: Any, value: Any) -> bool:
    """True when ``value`` validates against ``schema`` (False when the schema is broken)."""
    try:
        return validators.is_valid(standalone(schema), value)
    except (ValueError, TypeError):
        return False


def json_value(text: Any) -> Any:
    """A JSON string's value, or None when it does not parse."""
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def answer(results: Sequence[ToolResult]) -> str:
    """Text that answers tool results by using them."""
    parts = []
    for r in results:
        text = " ".join(r.text.split()) or "(no output)"
        if len(text) > RESULT_CHARS:
            text = text[:RESULT_CHARS].rstrip() + "..."
        parts.append(f"{r.name}: {text}" if r.name else text)
    return "Based on " + "; ".join(parts) + "."


def preamble(calls: Sequence[Tool]) -> str:
    """What a model says before calling tools on its own (Anthropic's text before tool_use)."""
    names = " and ".join(t.name for t in calls)
    return f"I'll use {names} for that."
