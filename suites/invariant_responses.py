"""The Responses API response invariants (POST /v1/responses), one function each.

Judged on a Response object: the JSON answer, or the one a stream's terminal event carries.
usage adds up (input + output = total, reasoning within output), ``max_output_tokens`` is
honoured (output within it, and a response cut there says so: status incomplete with
``incomplete_details.reason`` max_output_tokens), ``text.format`` json_schema output validates,
and function_call items call offered tools (the one ``tool_choice`` forces) with JSON arguments
valid for its parameters. Outcomes follow ``suites.invariant_rules``: SKIP when the request did
not exercise a rule, INCONCLUSIVE when the evidence is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.validation import Validators
from suites import bounded
from suites.invariant_rules import FAIL, INCONCLUSIVE, PASS, SKIP, Result, field_of, objects_in
from suites.invariant_tools import _problems

if TYPE_CHECKING:
    from suites.invariants import Observed


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _response(obs: Observed) -> dict[str, Any] | None:
    return obs.body if isinstance(obs.body, dict) and obs.body.get("object") == "response" else None


def _cap(request: dict[str, Any]) -> int | None:
    return _count(request.get("max_output_tokens"))


def _items(response: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [i for i in objects_in(response.get("output")) or [] if i.get("type") == kind]


def _text(response: dict[str, Any]) -> str | None:
    """The output_text of the message items, joined (None when there is none)."""
    parts = [
        str(p.get("text"))
        for item in _items(response, "message")
        for p in objects_in(item.get("content")) or []
        if p.get("type") == "output_text"
    ]
    return "".join(parts) if parts else None


def responses_usage_total(obs: Observed, v: Validators) -> Result:
    """usage.total_tokens == input_tokens + output_tokens; reasoning_tokens <= output_tokens."""
    response = _response(obs)
    if response is None:
        return INCONCLUSIVE, "no Response to read usage from (a stream without its terminal event?)"
    usage = response.get("usage")
    if not isinstance(usage, dict):
        return FAIL, "the Response carries no usage"
    inputs, outputs = _count(usage.get("input_tokens")), _count(usage.get("output_tokens"))
    total = _count(usage.get("total_tokens"))
    if inputs is None or outputs is None or total is None:
        return FAIL, f"usage lacks whole token counts: {usage}"
    if inputs + outputs != total:
        return FAIL, f"input_tokens {inputs} + output_tokens {outputs} != total_tokens {total}"
    reasoning = _count(field_of(usage.get("output_tokens_details"), "reasoning_tokens"))
    if reasoning is not None and reasoning > outputs:
        return FAIL, f"reasoning_tokens {reasoning} exceed output_tokens {outputs}"
    return PASS, f"{inputs} + {outputs} = {total} tokens"


def max_output_tokens_respected(obs: Observed, v: Validators) -> Result:
    """usage.output_tokens <= max_output_tokens."""
    cap = _cap(obs.request)
    if cap is None:
        return SKIP, "not exercised: the request sets no max_output_tokens"
    response = _response(obs)
    if response is None:
        return INCONCLUSIVE, "no Response to read usage from"
    outputs = _count(field_of(response.get("usage"), "output_tokens"))
    if outputs is None:
        return INCONCLUSIVE, "no usage.output_tokens to compare with the cap"
    if outputs > cap:
        return FAIL, f"output_tokens {outputs} > max_output_tokens {cap}"
    return PASS, f"output_tokens {outputs} <= max_output_tokens {cap}"


def incomplete_when_cut(obs: Observed, v: Validators) -> Result:
    """A response that spent max_output_tokens is incomplete with reason max_output_tokens; one
    incomplete for that reason had a cap to reach."""
    response = _response(obs)
    if response is None:
        return INCONCLUSIVE, "no Response to read the status from"
    cap = _cap(obs.request)
    status = response.get("status")
    reason = field_of(response.get("incomplete_details"), "reason")
    outputs = _count(field_of(response.get("usage"), "output_tokens"))
    if status == "incomplete":
        if not reason:
            return FAIL, "status incomplete without incomplete_details.reason"
        if reason == "max_output_tokens" and cap is None:
            return FAIL, "incomplete for max_output_tokens, which the request does not set"
        return PASS, f"status incomplete, reason {reason}"
    if cap is None:
        return SKIP, "not exercised: the request sets no max_output_tokens"
    if outputs is not None and outputs >= cap and status == "completed":
        return FAIL, f"output_tokens {outputs} reached max_output_tokens {cap}, status completed"
    return PASS, f"status {status}: {outputs} output token(s) under the cap of {cap}"


def responses_json_schema_valid(obs: Observed, v: Validators) -> Result:
    """text.format json_schema -> the output text is JSON valid for the schema."""
    fmt = field_of(obs.request.get("text"), "format")
    schema = field_of(fmt, "schema")
    if field_of(fmt, "type") != "json_schema" or not isinstance(schema, dict):
        return SKIP, "not exercised: text.format gives no json_schema"
    response = _response(obs)
    if response is None:
        return INCONCLUSIVE, "no Response to read the output text from"
    text = _text(response)
    if text is None:
        return INCONCLUSIVE, f"no output_text to validate (status {response.get('status')})"
    try:
        value = bounded.loads(text)
    except ValueError:
        if response.get("status") == "incomplete":
            return INCONCLUSIVE, "the output was cut before its JSON ended"
        return FAIL, f"the output text is not JSON: {text[:60]!r}"
    problem, broken = _problems(v, schema, value)
    if broken:
        return INCONCLUSIVE, f"text.format.schema does not compile: {broken}"
    if problem:
        return FAIL, f"the output breaks text.format.schema at {problem}"
    return PASS, "the output text is JSON valid for text.format.schema"


def responses_tool_args_match_schema(obs: Observed, v: Validators) -> Result:
    """function_call items name offered tools (the forced one when tool_choice forces), with
    JSON arguments valid for its parameters; tool_choice required or named -> a call."""
    tools = {
        t["name"]: t.get("parameters") or {"type": "object"}
        for t in objects_in(obs.request.get("tools")) or []
        if t.get("type") == "function" and isinstance(t.get("name"), str)
    }
    if not tools:
        return SKIP, "not exercised: the request offers no function tools"
    response = _response(obs)
    if response is None:
        return INCONCLUSIVE, "no Response to read function calls from"
    choice = obs.request.get("tool_choice")
    forced = field_of(choice, "name") if field_of(choice, "type") == "function" else None
    calls = _items(response, "function_call")
    if not calls:
        if response.get("status") == "completed" and (choice == "required" or forced):
            return FAIL, f"tool_choice {forced or choice} wants a call and none came"
        return SKIP, "not exercised: the model answered without a function call"
    for k, call in enumerate(calls):
        name, args = call.get("name"), call.get("arguments")
        if choice == "none":
            return FAIL, f"tool_choice none, yet item {k} calls {name!r}"
        if forced is not None and name != forced:
            return FAIL, f"tool_choice names {forced!r}, yet a call names {name!r}"
        if not isinstance(name, str) or name not in tools:
            return FAIL, f"a call names {name!r}, not an offered tool ({', '.join(tools)})"
        if response.get("status") == "incomplete":
            continue  # arguments cut at the cap are max_output_tokens' business
        try:
            value = bounded.loads(args if isinstance(args, str) else "")
        except ValueError:
            return FAIL, f"{name}: arguments are not JSON: {str(args)[:60]!r}"
        problem, broken = _problems(v, tools[name], value)
        if broken:
            return INCONCLUSIVE, f"{name}'s parameters schema does not compile: {broken}"
        if problem:
            return FAIL, f"{name}: arguments break the parameters schema at {problem}"
    return PASS, f"{len(calls)} function call(s) with JSON arguments matching their parameters"
