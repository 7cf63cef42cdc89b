"""The Gemini response invariants (``gemini_*`` in a contract's ``invariants``), one function
each, judged on one GenerateContentResponse: a generateContent answer, a stream assembled back
into one, or the JSON-array form (assembled here).

As everywhere: PASS only when the request exercised the rule and it held; SKIP "not
exercised" when it did not (no maxOutputTokens, no responseSchema, no function declared);
INCONCLUSIVE when the evidence is missing (no usageMetadata in a stream, which
``gemini.usage`` judges).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.validation import Validators, standalone
from contracts.wire.gemini import parameters_schema, response_schema, usage_sum
from suites import bounded
from suites.findings import Outcome
from suites.gemini_stream import assemble
from suites.invariant_rules import whole

if TYPE_CHECKING:
    from suites.invariants import Observed

Result = tuple[Outcome, str]
PASS, FAIL, SKIP, INCONCLUSIVE = Outcome.PASS, Outcome.FAIL, Outcome.SKIP, Outcome.INCONCLUSIVE
JSON_MIME = "application/json"


def _response(obs: Observed) -> dict[str, Any] | None:
    """The answer as one GenerateContentResponse (the array form assembled)."""
    body = obs.body
    if isinstance(body, list):
        return assemble([c for c in body if isinstance(c, dict)])
    return body if isinstance(body, dict) else None


def _streamed(obs: Observed) -> bool:
    return isinstance(obs.body, list) or obs.content_type == "text/event-stream"


def _config(obs: Observed) -> dict[str, Any]:
    config = obs.request.get("generationConfig")
    return config if isinstance(config, dict) else {}


def _candidates(response: dict[str, Any]) -> list[dict[str, Any]]:
    found = response.get("candidates")
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def _parts(candidate: dict[str, Any]) -> list[dict[str, Any]]:
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


def _text(candidate: dict[str, Any]) -> str:
    return "".join(
        str(p["text"])
        for p in _parts(candidate)
        if isinstance(p.get("text"), str) and not p.get("thought")
    )


def gemini_usage_total(obs: Observed, v: Validators) -> Result:
    """promptTokenCount + candidatesTokenCount (+ thoughts, tool-use prompt) = totalTokenCount."""
    response = _response(obs)
    if response is None:
        return INCONCLUSIVE, "the answer is not a GenerateContentResponse"
    usage = response.get("usageMetadata")
    if not isinstance(usage, dict):
        if _streamed(obs):
            return INCONCLUSIVE, "no usageMetadata arrived (judged by gemini.usage)"
        return FAIL, "the answer carries no usageMetadata: clients and relays bill by it"
    total = usage.get("totalTokenCount")
    if not isinstance(total, int):
        return FAIL, "usageMetadata has no totalTokenCount"
    expected = usage_sum(usage)
    if total != expected:
        return FAIL, f"totalTokenCount {total} is not the sum of its parts ({expected})"
    return PASS, f"totalTokenCount {total} = the sum of its parts"


def gemini_max_output_tokens(obs: Observed, v: Validators) -> Result:
    """maxOutputTokens: at most the cap per candidate; a candidate cut at it says MAX_TOKENS."""
    cap = whole(_config(obs).get("maxOutputTokens"))
    if cap is None:
        return SKIP, "not exercised: no generationConfig.maxOutputTokens"
    response = _response(obs)
    if response is None:
        return INCONCLUSIVE, "the answer is not a GenerateContentResponse"
    candidates = _candidates(response)
    usage = response.get("usageMetadata")
    if not isinstance(usage, dict) or not isinstance(usage.get("candidatesTokenCount"), int):
        return INCONCLUSIVE, "no usageMetadata.candidatesTokenCount to compare with the cap"
    spent = usage["candidatesTokenCount"] + (whole(usage.get("thoughtsTokenCount")) or 0)
    limit = cap * max(len(candidates), 1)
    if spent > limit:
        return FAIL, f"{spent} output tokens over maxOutputTokens {cap} x {len(candidates)}"
    cut = [
        c.get("index", i) for i, c in enumerate(candidates) if c.get("finishReason") == "MAX_TOKENS"
    ]
    if cut:
        return PASS, f"{spent} output tokens within the cap {limit}; candidate(s) {cut} MAX_TOKENS"
    return PASS, f"{spent} output tokens within the cap {limit}, ended before it"


def gemini_response_schema(obs: Observed, v: Validators) -> Result:
    """responseMimeType application/json: each finished candidate's text is JSON, valid for
    responseSchema (or responseJsonSchema) when one is given."""
    config = _config(obs)
    if config.get("responseMimeType") != JSON_MIME:
        return SKIP, "not exercised: responseMimeType is not application/json"
    response = _response(obs)
    if response is None:
        return INCONCLUSIVE, "the answer is not a GenerateContentResponse"
    schema = response_schema(config)
    judged = 0
    for i, cand in enumerate(_candidates(response)):
        if cand.get("finishReason") not in (None, "STOP") or not _text(cand):
            continue
        try:
            value = bounded.loads(_text(cand))
        except ValueError:
            return FAIL, f"candidate {i}: the text is not JSON: {_text(cand)[:80]!r}"
        if schema is not None:
            try:
                problems = v.problems(standalone(schema), value, limit=1)
            except (ValueError, TypeError):
                return INCONCLUSIVE, "the request's responseSchema is not a usable schema"
            if problems:
                return FAIL, f"candidate {i}: the JSON breaks responseSchema at {problems[0]}"
        judged += 1
    if not judged:
        return INCONCLUSIVE, "no candidate finished with text to judge"
    what = "valid for responseSchema" if schema is not None else "JSON"
    return PASS, f"{judged} candidate text(s) are {what}"


def gemini_function_args(obs: Observed, v: Validators) -> Result:
    """Every functionCall names a declared function and its args match the declared
    parameters; mode ANY requires a call."""
    declared = {
        d["name"]: parameters_schema(d)
        for t in obs.request.get("tools") or []
        if isinstance(t, dict)
        for d in t.get("functionDeclarations") or []
        if isinstance(d, dict) and isinstance(d.get("name"), str)
    }
    if not declared:
        return SKIP, "not exercised: no function declared"
    response = _response(obs)
    if response is None:
        return INCONCLUSIVE, "the answer is not a GenerateContentResponse"
    calls = [
        p["functionCall"]
        for c in _candidates(response)
        for p in _parts(c)
        if isinstance(p.get("functionCall"), dict)
    ]
    tool_config = obs.request.get("toolConfig")
    mode = (
        ((tool_config or {}).get("functionCallingConfig") or {}).get("mode")
        if isinstance(tool_config, dict)
        else None
    )
    if not calls:
        if mode == "ANY":
            return FAIL, "functionCallingConfig mode ANY requires a call and none was made"
        return SKIP, "not exercised: the model answered without calling a function"
    for call in calls:
        name = call.get("name")
        if name not in declared:
            return FAIL, f"functionCall {name!r} names no declared function"
        args = call.get("args", {})
        try:
            problems = v.problems(standalone(declared[name]), args, limit=1)
        except (ValueError, TypeError):
            return INCONCLUSIVE, f"the parameters of {name!r} are not a usable schema"
        if problems:
            return FAIL, f"functionCall {name!r}: args break the parameters at {problems[0]}"
    return PASS, f"{len(calls)} functionCall(s), args valid for the declared parameters"


def gemini_candidate_count(obs: Observed, v: Validators) -> Result:
    """As many candidates as generationConfig.candidateCount asks (default 1)."""
    asked = _config(obs).get("candidateCount")
    n = whole(asked) if asked is not None else 1
    if n is None:
        return SKIP, f"not exercised: candidateCount {asked!r} is not a whole number"
    response = _response(obs)
    if response is None:
        return INCONCLUSIVE, "the answer is not a GenerateContentResponse"
    got = len(_candidates(response))
    if not got and isinstance(response.get("promptFeedback"), dict):
        return INCONCLUSIVE, "the prompt was blocked (promptFeedback, no candidates)"
    if got != n:
        return FAIL, f"{got} candidate(s); candidateCount asks for {n}"
    return PASS, f"{n} candidate(s), as asked"


RULES = {
    "gemini_usage_total": gemini_usage_total,
    "gemini_max_output_tokens": gemini_max_output_tokens,
    "gemini_response_schema": gemini_response_schema,
    "gemini_function_args": gemini_function_args,
    "gemini_candidate_count": gemini_candidate_count,
}
"""The Gemini response invariants by name."""
