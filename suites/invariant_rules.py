"""The chat and completions response invariants, one function each, and the shared helpers.

Each rule is (observed, validators) -> (outcome, message). PASS only when the request exercised
the rule and it held. A request that does not exercise a rule (no ``stop``, no ``max_tokens``,
no ``audio`` modality) gives SKIP "not exercised: ..."; missing evidence (no usage, a URL that
may not be fetched) gives INCONCLUSIVE with the reason; FAIL messages name the numbers. Here:
choice counts, usage totals, the token cap and finish_reason, stop sequences, reasoning tokens
and chat audio. The tool-call and JSON-content rules live in ``suites.invariant_tools`` and the
media rules in ``suites.invariant_media``; both import the helpers here (never the other way
round).
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from contracts.validation import Validators
from suites.findings import Outcome

if TYPE_CHECKING:
    from suites.invariants import Observed

Result = tuple[Outcome, str]
PASS, FAIL, SKIP, INCONCLUSIVE = Outcome.PASS, Outcome.FAIL, Outcome.SKIP, Outcome.INCONCLUSIVE

MIN_CONTEXT = 4096
"""No current model has a smaller context window: below it a "length" cannot be an overflow."""

# --- reading requests and bodies ------------------------------------------------------------


def whole(value: Any) -> int | None:
    """A whole number from JSON or a form field (``2``, ``2.0``, ``"2"``); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _count(value: Any) -> int | None:
    """A token count as usage reports it: a JSON integer >= 0 (strings do not count)."""
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return value if ok else None


def field_of(body: Any, name: str) -> Any:
    """The value under ``name`` of a JSON object; None for anything else."""
    return body.get(name) if isinstance(body, dict) else None


def objects_in(value: Any) -> list[dict[str, Any]] | None:
    """The objects of a JSON array (others skipped); None when it is not an array."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else None


def requested_count(request: dict[str, Any], *names: str) -> tuple[int | None, str]:
    """The count the request asks for under the first of ``names`` it sets (default 1)."""
    for name in names:
        if request.get(name) is not None:
            return whole(request[name]), f"{name}={request[name]!r}"
    return 1, f"{names[0]}=1 (the default)"


def _prompts(request: dict[str, Any]) -> int:
    """Legacy completions answer n choices per prompt; a token array is one prompt."""
    prompt = request.get("prompt")
    if "messages" in request or not isinstance(prompt, list) or not prompt:
        return 1
    return 1 if all(whole(p) is not None for p in prompt) else len(prompt)


def choice_text(choice: dict[str, Any]) -> str | None:
    """A chat choice's message content (parts joined), or a completion choice's text."""
    if "message" not in choice:
        text = choice.get("text")
        return text if isinstance(text, str) else None
    content = field_of(choice.get("message"), "content")
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        return "".join(p for p in parts if isinstance(p, str))
    return content if isinstance(content, str) else None


def _usage(obs: Observed) -> dict[str, Any] | None:
    usage = field_of(obs.body, "usage")
    return usage if isinstance(usage, dict) else None


def _no_usage(obs: Observed) -> Result:
    why = "the response carries no usage"
    if obs.request.get("stream") is True:
        why += " (a stream carries it only with stream_options.include_usage)"
    return INCONCLUSIVE, why


def _usage_missing(obs: Observed) -> Result:
    """usage_total's verdict on an answer without usage: a non-stream answer must carry it
    (OpenAI always sends it, relays and their clients bill by it); a stream only when asked,
    and a stream that was asked and has none is sse.usage_chunk's finding, not repeated here."""
    if not isinstance(obs.body, dict):
        return INCONCLUSIVE, "the answer is not a JSON object: no usage to read"
    if obs.request.get("stream") is True:
        if (obs.request.get("stream_options") or {}).get("include_usage"):
            return INCONCLUSIVE, "no usage chunk arrived (judged by sse.usage_chunk)"
        return SKIP, "not exercised: a stream carries usage only with include_usage"
    return FAIL, "the answer carries no usage: clients and relays bill by it"


def _completion_tokens(usage: dict[str, Any]) -> int | None:
    return _count(usage.get("completion_tokens", usage.get("output_tokens")))


def _cap(request: dict[str, Any]) -> tuple[int, str] | None:
    """The token cap; when both fields are given the larger counts (providers differ)."""
    given = [
        (v, name)
        for name in ("max_completion_tokens", "max_tokens")
        if (v := whole(request.get(name))) is not None
    ]
    return max(given) if given else None


def _generations(request: dict[str, Any]) -> int:
    """Completions generated (and billed): n (or best_of, if larger) per prompt."""
    n = whole(request.get("n")) or 1
    return max(n, whole(request.get("best_of")) or 1) * _prompts(request)


def _cap_text(limit: int, name: str, k: int) -> str:
    return f"{name} {limit}" if k == 1 else f"the cap {limit * k} ({name} {limit} x {k})"


def decode_base64(value: Any) -> bytes | None:
    """Strict base64 (a data: URL's payload too); line breaks some providers add are fine."""
    if not isinstance(value, str):
        return None
    text = value.split(",", 1)[1] if value.startswith("data:") else value
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError, IndexError):
        return None


# --- chat and completions ------------------------------------------------------------------


def choices_len_n(obs: Observed, v: Validators) -> Result:
    """len(choices) == n (1 when absent), times the prompts of a legacy completion."""
    n, asked = requested_count(obs.request, "n")
    if n is None:
        return SKIP, f"not exercised: {asked} is not a whole number"
    prompts = _prompts(obs.request)
    want = n * prompts
    asks = asked if prompts == 1 else f"{asked} x {prompts} prompts"
    choices = objects_in(field_of(obs.body, "choices"))
    if choices is None:
        return FAIL, f"no choices array; {asks} asks for {want}"
    if len(choices) != want:
        return FAIL, f"{len(choices)} choice(s); {asks} asks for {want}"
    return PASS, f"{want} choice(s), as {asks} asks"


def usage_total(obs: Observed, v: Validators) -> Result:
    """total_tokens == prompt_tokens + completion_tokens (0 for embeddings, which have none).

    Anthropic-style usage (input_tokens/output_tokens) has no total: SKIP.
    """
    usage = _usage(obs)
    if usage is None:
        return _usage_missing(obs)
    if "prompt_tokens" in usage or "completion_tokens" in usage:
        parts = ("prompt_tokens", "completion_tokens")
    elif "input_tokens" in usage or "output_tokens" in usage:
        if "total_tokens" not in usage:
            return SKIP, "not exercised: Anthropic-style usage (input/output_tokens) has no total"
        parts = ("input_tokens", "output_tokens")
    else:
        return INCONCLUSIVE, f"usage has no token counts to add: {sorted(usage)[:5]}"
    names = (*parts, "total_tokens")
    counts = {k: _count(usage.get(k)) for k in names}
    if parts[1] not in usage and field_of(obs.body, "choices") is None:
        counts[parts[1]] = 0  # embeddings generate nothing: {prompt_tokens, total_tokens}
    a, b, total = (counts[k] for k in names)
    if a is None or b is None or total is None:
        bad = next(k for k, n in counts.items() if n is None)
        return INCONCLUSIVE, f"usage.{bad} is {usage.get(bad)!r}, not a token count"
    if total != a + b:
        return FAIL, f"total_tokens {total} != {parts[0]} {a} + {parts[1]} {b} = {a + b}"
    return PASS, f"total_tokens {total} = {a} + {b}"


def max_tokens_respected(obs: Observed, v: Validators) -> Result:
    """completion_tokens <= max_tokens (or max_completion_tokens) x the completions generated.

    OpenAI counts completion_tokens over every choice (and best_of candidate), reasoning
    tokens included, so the cap is the per-completion limit times their number.
    """
    cap = _cap(obs.request)
    if cap is None:
        return SKIP, "not exercised: the request sets no max_tokens or max_completion_tokens"
    usage = _usage(obs)
    used = _completion_tokens(usage) if usage is not None else None
    if used is None:
        return (
            _no_usage(obs)
            if usage is None
            else (INCONCLUSIVE, "usage has no completion_tokens to compare")
        )
    limit, name = cap
    k = _generations(obs.request)
    if used > limit * k:
        return FAIL, f"completion_tokens {used} exceed {_cap_text(limit, name, k)}"
    return PASS, f"completion_tokens {used} <= {_cap_text(limit, name, k)}"


def finish_length_when_cut(obs: Observed, v: Validators) -> Result:
    """finish_reason "length" exactly when the answer was cut at the token cap.

    Only the total is known, not per-choice counts. With cap C, L choices saying "length" and
    G completions generated:
    - PASS when completion_tokens >= L x C;
    - FAIL when it is below that and prompt + completion < MIN_CONTEXT (no context overflow
      can explain it; at or above it, INCONCLUSIVE);
    - FAIL when completion_tokens == G x C (every choice reached the cap) yet none says
      "length"; INCONCLUSIVE if the request has stop sequences (one may have ended the
      answer right at the cap, depending on how the provider counts it);
    - INCONCLUSIVE for "length" without a cap, no usage, or a total over the cap (that is
      max_tokens_respected's failure); SKIP when nothing was cut or no cap was set.
    """
    choices = objects_in(field_of(obs.body, "choices"))
    if not choices:
        return INCONCLUSIVE, "no choices to read finish_reason from"
    cut = [i for i, c in enumerate(choices) if c.get("finish_reason") == "length"]
    cap = _cap(obs.request)
    if cap is None:
        if cut:
            return INCONCLUSIVE, (
                f"choice {cut[0]} says length without max_tokens: only a full "
                "context window explains it, which the answer cannot show"
            )
        return SKIP, "not exercised: the request sets no max_tokens and no choice says length"
    limit, name = cap
    usage = _usage(obs)
    used = _completion_tokens(usage) if usage is not None else None
    if usage is None or used is None:
        return INCONCLUSIVE, f"no usage.completion_tokens to tell whether {name} {limit} was hit"
    k = max(_generations(obs.request), len(choices))
    if used > limit * k:
        return INCONCLUSIVE, (
            f"completion_tokens {used} exceed {_cap_text(limit, name, k)}, "
            "so whether the answer was cut cannot be told"
        )
    if cut:
        need = limit * len(cut)
        which = f"choice(s) {', '.join(map(str, cut))} say length"
        if used >= need:
            return PASS, f"{which} and completion_tokens {used} reach {need} ({name} {limit})"
        prompt = _count(usage.get("prompt_tokens", usage.get("input_tokens")))
        if prompt is None or prompt + used >= MIN_CONTEXT:
            return INCONCLUSIVE, (
                f"{which} below the cap (completion_tokens {used} < {need}); "
                "a full context window may explain it"
            )
        return FAIL, f"{which} but completion_tokens {used} < {need} ({name} {limit}): not cut"
    if used == limit * k and used > 0 and k == len(choices):
        reasons = "/".join(sorted({str(c.get("finish_reason")) for c in choices}))
        if _stops(obs.request):
            return INCONCLUSIVE, (
                f"completion_tokens {used} = {_cap_text(limit, name, k)} with finish_reason "
                f"{reasons}: a stop sequence may have ended the answer right at the cap"
            )
        return FAIL, (
            f"completion_tokens {used} = {_cap_text(limit, name, k)}: every choice hit "
            f"the cap, yet finish_reason is {reasons}, not length"
        )
    return SKIP, f"not exercised: no choice was cut (completion_tokens {used} < {limit * k})"


def _stops(request: dict[str, Any]) -> list[str]:
    stop = request.get("stop")
    stops = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
    return [s for s in stops if isinstance(s, str) and s]


def _echoed(request: dict[str, Any]) -> list[str]:
    """Prompts a legacy completion echoes before its text (echo: true), longest first."""
    if request.get("echo") is not True:
        return []
    prompt = request.get("prompt")
    prompts = [prompt] if isinstance(prompt, str) else prompt if isinstance(prompt, list) else []
    return sorted((p for p in prompts if isinstance(p, str) and p), key=len, reverse=True)


def stop_absent(obs: Observed, v: Validators) -> Result:
    """No stop sequence appears in any choice's content (chat) or text (completions)."""
    stops = _stops(obs.request)
    if not stops:
        return SKIP, "not exercised: the request sets no stop"
    choices = objects_in(field_of(obs.body, "choices"))
    if not choices:
        return INCONCLUSIVE, "no choices to search for the stop sequences"
    echoed, searched = _echoed(obs.request), 0
    for i, choice in enumerate(choices):
        text = choice_text(choice)
        if text is None:
            continue
        prefix = next((p for p in echoed if text.startswith(p)), "")
        text, searched = text[len(prefix) :], searched + 1
        hit = next((s for s in stops if s in text), None)
        if hit is not None:
            return FAIL, f"choice {i} contains the stop sequence {hit!r} at {text.find(hit)}"
    if not searched:
        return SKIP, "not exercised: no choice has text (tool calls only)"
    return PASS, f"none of {len(stops)} stop sequence(s) in {searched} choice(s)"


def reasoning_tokens_reported(obs: Observed, v: Validators) -> Result:
    """usage.completion_tokens_details.reasoning_tokens is an integer >= 0."""
    usage = _usage(obs)
    if usage is None:
        return _no_usage(obs)
    value = field_of(usage.get("completion_tokens_details"), "reasoning_tokens")
    if _count(value) is None:
        return FAIL, f"usage.completion_tokens_details.reasoning_tokens is {value!r}, not a count"
    return PASS, f"reasoning_tokens {value} reported"


def audio_present(obs: Observed, v: Validators) -> Result:
    """modalities with "audio" -> every choice's message.audio has id, transcript, base64 data."""
    modalities = obs.request.get("modalities")
    if not isinstance(modalities, list) or "audio" not in modalities:
        return SKIP, "not exercised: modalities does not ask for audio"
    fmt = field_of(obs.request.get("audio"), "format")
    choices = objects_in(field_of(obs.body, "choices"))
    if not choices:
        return INCONCLUSIVE, "no choices to read message.audio from"
    size = 0
    for i, choice in enumerate(choices):
        audio = field_of(choice.get("message"), "audio")
        if not isinstance(audio, dict):
            return FAIL, f"choice {i} has no message.audio"
        missing = [k for k in ("id", "transcript") if not isinstance(audio.get(k), str)]
        if missing or not audio["id"]:
            return FAIL, f"choice {i}: message.audio has no {(missing or ['id'])[0]}"
        data = decode_base64(audio.get("data"))
        if not data:
            return FAIL, f"choice {i}: message.audio.data is not non-empty base64"
        if isinstance(fmt, str) and not audio_matches(fmt, data):
            return FAIL, f"choice {i}: audio.format {fmt}, but data starts {data[:4].hex(' ')}"
        size += len(data)
    return PASS, f"{len(choices)} choice(s) with audio id, transcript and {size} bytes of {fmt}"


# --- audio bytes (audio_present; speech_format_matches in invariant_media) ------------------

MAGIC = {
    "mp3": "ID3 or an MPEG frame sync",
    "opus": "OggS",
    "aac": "an ADTS header (0xFFF, layer 0)",
    "flac": "fLaC",
    "wav": "RIFF....WAVE",
}


def audio_matches(fmt: str, data: bytes) -> bool:
    """True when the bytes start as ``fmt`` does (pcm and unknown formats: any bytes)."""
    sync = len(data) > 1 and data[0] == 0xFF
    checks = {
        "mp3": data[:3] == b"ID3" or (sync and data[1] & 0xE0 == 0xE0 and data[1] & 0x06 != 0),
        "opus": data[:4] == b"OggS",
        "aac": sync and data[1] & 0xF6 == 0xF0,
        "flac": data[:4] == b"fLaC",
        "wav": data[:4] == b"RIFF" and data[8:12] == b"WAVE",
    }
    return checks.get(fmt, True)
