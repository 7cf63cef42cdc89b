"""The model each operation is checked with, among those the relay offers.

Per operation: the profile's model if it names one; else the documented model if the relay
lists it (or lists nothing usable); else a model of the same capability that the relay lists,
said as a substitution; else the operation is not offered ("model not offered"). Operations
that a model selects (gpt-4-all, suno-v3.5 in chat...) keep their documented model: another
model would make them another operation.

An answer that says the model does not exist, in any of the forms relays use, is also "model
not offered" (``refusal``), never a failure of the relay.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.model import ContractSet, Operation
from suites.discovery import Discovery
from suites.probes import capability, profile_model
from suites.profile import Profile
from suites.transport import Exchange

REFUSAL_STATUSES = frozenset({400, 401, 403, 404, 500, 503})
"""Statuses relays answer an unknown or unavailable model with (new-api: 503, LiteLLM: 400)."""
REFUSALS = re.compile(
    "|".join(
        (
            r"model_not_found",  # OpenAI's code; new-api and one-api reuse it
            r"the model [`'\"]?[\w./:-]+[`'\"]? does not exist",  # OpenAI
            r"invalid model name passed in model",  # LiteLLM's proxy
            r"无可用渠道",  # new-api / one-api: no channel serves the model in this group
            r"no available channel",
            r"model[ _]not[ _](found|supported|available)",
            r"unsupported model",
            r"not a valid model",
            r"模型不存在",
            r"不支持(该|的)?模型",
            r"无权(限)?使用(该)?模型",  # the key may not use this model
        )
    ),
    re.I,
)
"""What a relay says when the model is not offered: OpenAI, new-api/one-api, LiteLLM, others."""

VISION_HINTS = ("vision", "4o", "gpt-4-turbo", "gpt-4.1", "gpt-5", "claude-3", "claude-sonnet",
                "claude-opus", "gemini", "-vl", "4v", "pixtral", "llava")  # fmt: skip
"""Name parts of chat models that read images, for a vision operation's substitute."""
REASONING_HINTS = ("o1", "o3", "o4-", "-r1", "reasoner", "thinking", "qwq")
"""Name parts of reasoning chat models (reasoning_effort, reasoning_content)."""
CHAT_KINDS = {
    "vision": VISION_HINTS,
    "reasoning": REASONING_HINTS,
    "chat-audio": ("audio",),
}
"""Capabilities that are chat models of a special kind, told apart by their names."""
CHEAP_HINTS = ("mini", "nano", "small", "flash", "haiku", "lite", "turbo", "instant")
"""Name parts of the cheaper models of a family, preferred as substitutes (a run pays)."""
NAME_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("embeddings", ("embedding", "embed", "bge-", "e5-")),
    ("tts", ("tts", "speech")),
    ("stt", ("whisper", "transcribe", "stt")),
    ("images", ("dall-e", "gpt-image", "flux", "stable-diffusion", "sd3", "ideogram",
                "recraft", "imagen", "midjourney")),
    ("completions", ("instruct", "davinci", "babbage")),
)  # fmt: skip
"""Capabilities read off a model's name when neither the list nor the contracts say."""


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """The model an operation is checked with, how it was chosen, or why it cannot be."""

    model: str = ""
    """"" when the operation takes no model (or is not offered)."""
    note: str = ""
    not_offered: str = ""
    substitute: bool = False
    """True when every example is sent with ``model`` instead of its documented one."""
    unlisted: frozenset[str] = frozenset()
    """Documented models the relay does not list: examples naming them are skipped (they
    exercise that model; another operation example names one it lists)."""


def documented_models(op: Operation) -> list[str]:
    """The models the operation's servable request examples name, first example first."""
    models: list[str] = []
    for example in op.request.examples:
        if example.servable and isinstance(example.value, dict):
            model = example.value.get("model")
            if isinstance(model, str) and model and model not in models:
                models.append(model)
    return models


def documented_model(op: Operation) -> str | None:
    """The model of the operation's first servable request example that names one."""
    models = documented_models(op)
    return models[0] if models else None


def selected_by_model(op: Operation) -> bool:
    """True when the model is one of the conditions that select this operation."""
    return any(c.field == "model" for c in op.match)


def choose(
    op: Operation, profile: Profile, discovery: Discovery | None, known: Mapping[str, str]
) -> ModelChoice:
    """The model for ``op``; ``known`` maps documented models to their capability."""
    models = documented_models(op)
    if not models:
        return ModelChoice()
    documented = models[0]
    chosen = profile_model(op, profile)
    if chosen is not None:
        return ModelChoice(chosen, "the profile's")
    cap = capability(op)
    if discovery is None or discovery.models is None or cap is None:
        return ModelChoice(documented)  # nothing to choose from: the answer will tell
    unlisted = [m for m in models if not discovery.lists(m)]
    if not unlisted:
        return ModelChoice(documented)
    if selected_by_model(op):
        if documented not in unlisted:  # the model that selects the operation is there
            return ModelChoice(documented)
        why = f"model not offered: the relay does not list {documented}, which selects {op.id}"
        return ModelChoice(not_offered=why)
    missing = ", ".join(unlisted)
    listed = [m for m in models if m not in unlisted]
    if listed:  # check the examples of the models it lists, skip the others'
        note = f"examples naming {missing} skipped: not listed"
        return ModelChoice(listed[0], note, unlisted=frozenset(unlisted))
    candidates = [m for m in discovery.models if serves(m, cap, discovery.modes, known)]
    if not candidates:
        return ModelChoice(
            not_offered=f"model not offered: the relay lists no {cap} model ({missing} not listed)"
        )
    best = min(candidates, key=lambda m: _rank(m, documented, cap, known))
    return ModelChoice(best, f"substituted for {missing}, not listed", substitute=True)


def serves(model: str, cap: str, modes: Mapping[str, str], known: Mapping[str, str]) -> bool:
    """True when ``model`` is for ``cap``, by the relay's word, the contracts' or its name; a
    chat model of a special kind (vision, reasoning, audio) must be known or named so."""
    kind = modes.get(model) or known.get(model) or _by_name(model)
    hints = CHAT_KINDS.get(cap)
    if hints is None:
        return kind == cap
    return known.get(model) == cap or (
        (kind == "chat" or kind in CHAT_KINDS) and _hinted(model, hints)
    )


def _by_name(model: str) -> str:
    for cap, hints in NAME_HINTS:
        if _hinted(model, hints):
            return cap
    return "chat"


def _hinted(model: str, hints: Iterable[str]) -> bool:
    lowered = model.lower()
    return any(h in lowered for h in hints)


def _vendor(model: str) -> str:
    return re.split(r"[-/:.]", model.lower(), maxsplit=1)[0]


def _rank(model: str, documented: str, cap: str, known: Mapping[str, str]) -> tuple[Any, ...]:
    """Same vendor first, then models the contracts document for the capability, then the
    cheaper names, then the shortest (the plainest variant), then by name."""
    return (
        _vendor(model) != _vendor(documented),
        known.get(model) != cap,
        not _hinted(model, CHEAP_HINTS),
        len(model),
        model,
    )


def known_capabilities(contracts: ContractSet) -> dict[str, str]:
    """Documented model -> capability, from every operation's examples (a special kind of
    chat model, e.g. vision, wins over plain chat)."""
    known: dict[str, str] = {}
    for op in contracts:
        cap = capability(op)
        if cap is None:
            continue
        for model in documented_models(op):
            if known.get(model) not in CHAT_KINDS:
                known[model] = cap
    return known


def choose_all(
    contracts: ContractSet,
    operations: Iterable[Operation],
    profile: Profile,
    discovery: Discovery | None,
) -> dict[str, ModelChoice]:
    """The choice for every operation, by id."""
    known = known_capabilities(contracts)
    return {op.id: choose(op, profile, discovery, known) for op in operations}


def with_choices(profile: Profile, choices: Mapping[str, ModelChoice]) -> Profile:
    """The profile the run sends with: substitutions added per operation id (the profile's
    own names, at any level, are already what the choices say)."""
    extra = {op_id: c.model for op_id, c in choices.items() if c.substitute}
    if not extra:
        return profile
    return dataclasses.replace(profile, models={**profile.models, **extra})


def refusal(exchange: Exchange) -> str:
    """The relay's words when an answer says the model is not offered, else ""."""
    if exchange.status not in REFUSAL_STATUSES:
        return ""
    text = exchange.content[:4000].decode("utf-8", errors="replace")
    match = REFUSALS.search(text)
    if match is None:
        return ""
    return _message(exchange.json()) or " ".join(text.split())[:200]


def _message(body: Any) -> str:
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return " ".join(str(err["message"]).split())[:200]
        for key in ("message", "detail", "error", "description", "msg"):
            value = body.get(key)
            if isinstance(value, str):
                return " ".join(value.split())[:200]
            if isinstance(value, dict):
                return _message(value)
    return ""
