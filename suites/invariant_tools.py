"""The tool-call and JSON-content response invariants, one function each.

These rules judge chat answers against what the request asked for: tool_choice and the offered
tools (which function is called, and whether its arguments are JSON matching that tool's
parameters schema), and response_format json_object / json_schema (whether each choice's
content parses, and validates against the request's schema). They follow the outcome
conventions of ``suites.invariant_rules`` and import its shared helpers (never the other way
round); schemas carried in the request are compiled with the contracts' ``Validators``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.validation import Validators, iter_refs
from suites import bounded
from suites.invariant_rules import (
    FAIL,
    INCONCLUSIVE,
    PASS,
    SKIP,
    Result,
    choice_text,
    field_of,
    objects_in,
)

if TYPE_CHECKING:
    from suites.invariants import Observed

# --- schemas carried in the request ---------------------------------------------------------


def _standalone(schema: Any) -> Any:
    """A request-borne schema whose local ``#/$defs`` refs resolve against itself."""
    local = any(not ref.startswith("#/components/") for _, ref in iter_refs(schema))
    if isinstance(schema, dict) and local and "$id" not in schema:
        return {**schema, "$id": "urn:relaykit:request-schema"}
    return schema


def _problems(v: Validators, schema: Any, value: Any) -> tuple[str | None, str | None]:
    """(first problem, None), (None, None) when valid, or (None, why) when it cannot compile."""
    try:
        found = v.problems(_standalone(schema), value, limit=1)
    except ValueError as exc:
        return None, str(exc).splitlines()[0][:120]
    return (str(found[0]) if found else None), None


# --- tool calls and JSON content -----------------------------------------------------------


def _tools(request: dict[str, Any]) -> dict[str, Any]:
    """Offered function name -> its parameters schema (tools, or legacy functions)."""
    out: dict[str, Any] = {}
    tools = [field_of(t, "function") for t in objects_in(request.get("tools")) or []]
    for fn in [*tools, *(objects_in(request.get("functions")) or [])]:
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            out[fn["name"]] = fn.get("parameters") or {"type": "object", "properties": {}}
    return out


def _calls(choice: dict[str, Any]) -> list[dict[str, Any]]:
    """The function parts of a choice's tool calls (and a legacy function_call)."""
    message = choice.get("message")
    if not isinstance(message, dict):
        return []
    calls = [field_of(tc, "function") for tc in objects_in(message.get("tool_calls")) or []]
    calls.append(message.get("function_call"))
    return [c for c in calls if isinstance(c, dict)]


def _tool_choice(request: dict[str, Any]) -> tuple[str, str | None]:
    """("none" | "auto" | "required" | "function", the forced function's name)."""
    choice = request.get("tool_choice", request.get("function_call"))
    if isinstance(choice, dict):
        fn = choice.get("function", choice)
        name = field_of(fn, "name")
        return ("function", name) if isinstance(name, str) else ("auto", None)
    return (choice, None) if choice in ("none", "auto", "required") else ("auto", None)


def tool_calls_present(obs: Observed, v: Validators) -> Result:
    """tool_choice required or a named function -> every choice calls (that) tool; none -> none.

    With auto the model may answer in text: SKIP, unless it calls, then the names are checked.
    """
    offered = _tools(obs.request)
    if not offered:
        return SKIP, "not exercised: the request offers no tools"
    mode, wanted = _tool_choice(obs.request)
    choices = objects_in(field_of(obs.body, "choices"))
    if not choices:
        return INCONCLUSIVE, "no choices to read tool_calls from"
    for i, choice in enumerate(choices):
        names = [str(c.get("name")) for c in _calls(choice)]
        if mode == "none" and names:
            return FAIL, f"tool_choice none, yet choice {i} calls {names[0]!r}"
        if mode in ("required", "function") and not names:
            finish = choice.get("finish_reason")
            return (
                FAIL,
                f"tool_choice {wanted or mode} wants a call; choice {i} has none ({finish})",
            )
        stray = next((n for n in names if n not in offered), None)
        if stray is not None:
            return FAIL, f"choice {i} calls {stray!r}, not an offered tool ({', '.join(offered)})"
        if wanted is not None and any(n != wanted for n in names):
            return FAIL, f"tool_choice names {wanted!r}, yet choice {i} calls {names}"
    if mode == "none":
        return PASS, "tool_choice none: no choice calls a tool"
    if mode == "auto" and not any(_calls(c) for c in choices):
        return SKIP, "not exercised: tool_choice auto and the model answered without a tool"
    return PASS, f"tool_choice {wanted or mode}: every call names {wanted or 'an offered tool'}"


def tool_args_match_schema(obs: Observed, v: Validators) -> Result:
    """Every call's arguments are a JSON string valid against that tool's parameters."""
    tools = _tools(obs.request)
    if not tools:
        return SKIP, "not exercised: the request offers no tools"
    choices = objects_in(field_of(obs.body, "choices"))
    calls = [(i, k, c) for i, ch in enumerate(choices or []) for k, c in enumerate(_calls(ch))]
    if not calls:
        return SKIP, "not exercised: no choice calls a tool"
    unknown = []
    for i, k, call in calls:
        name, args = call.get("name"), call.get("arguments")
        where = f"choice {i} call {k} ({name})"
        if not isinstance(args, str):
            return FAIL, f"{where}: arguments are {type(args).__name__}, not a JSON string"
        try:
            value = bounded.loads(args)
        except ValueError:
            return FAIL, f"{where}: arguments are not JSON: {args[:60]!r}"
        if not isinstance(name, str) or name not in tools:
            unknown.append(where)
            continue
        problem, broken = _problems(v, tools[name], value)
        if broken:
            return INCONCLUSIVE, f"{name}'s parameters schema does not compile: {broken}"
        if problem:
            return FAIL, f"{where}: arguments break the parameters schema at {problem}"
    if unknown:
        return INCONCLUSIVE, f"{unknown[0]} names no offered tool: no schema to check against"
    return PASS, f"{len(calls)} call(s) with JSON arguments that match the tool's parameters"


def _json_contents(obs: Observed) -> tuple[list[tuple[int, Any]], str | Result]:
    """(index, parsed content) per choice, or the outcome when there is nothing to judge."""
    fmt = obs.request.get("response_format")
    kind = field_of(fmt, "type")
    if kind not in ("json_object", "json_schema"):
        return [], (SKIP, "not exercised: response_format asks for no JSON")
    choices = objects_in(field_of(obs.body, "choices"))
    if not choices:
        return [], (INCONCLUSIVE, "no choices to read content from")
    parsed, notes = [], []
    for i, choice in enumerate(choices):
        text = choice_text(choice)
        refused = field_of(choice.get("message"), "refusal")
        if text is None:
            notes.append(f"choice {i} has no content" + (" (refused)" if refused else ""))
            continue
        try:
            parsed.append((i, bounded.loads(text)))
        except ValueError:
            if choice.get("finish_reason") == "length":
                notes.append(f"choice {i} was cut at max_tokens before its JSON ended")
                continue
            return [], (FAIL, f"choice {i}'s content is not JSON ({kind}): {text[:60]!r}")
    if not parsed:
        return [], (INCONCLUSIVE, notes[0])
    return parsed, str(kind)


def json_content_parses(obs: Observed, v: Validators) -> Result:
    """response_format json_object / json_schema -> each choice's content parses as JSON."""
    parsed, kind = _json_contents(obs)
    if not isinstance(kind, str):
        return kind
    return PASS, f"{len(parsed)} choice(s) with JSON content ({kind})"


def json_schema_content_valid(obs: Observed, v: Validators) -> Result:
    """response_format json_schema -> content validates against json_schema.schema."""
    fmt = obs.request.get("response_format")
    schema = field_of(field_of(fmt, "json_schema"), "schema")
    if field_of(fmt, "type") != "json_schema" or schema is None:
        return SKIP, "not exercised: response_format gives no json_schema.schema"
    parsed, kind = _json_contents(obs)
    if not isinstance(kind, str):
        if kind[0] is FAIL:  # json_content_parses reports unparsable content
            return INCONCLUSIVE, f"{kind[1]}: nothing to validate"
        return kind
    for i, value in parsed:
        problem, broken = _problems(v, schema, value)
        if broken:
            return INCONCLUSIVE, f"json_schema.schema does not compile: {broken}"
        if problem:
            return FAIL, f"choice {i}'s content breaks json_schema.schema at {problem}"
    return PASS, f"{len(parsed)} choice(s) whose content matches json_schema.schema"
