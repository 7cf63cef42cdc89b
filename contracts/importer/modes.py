"""Operations relaykit's export merged on one method and path, apart again.

``contracts.openapi`` writes ``x-relaykit-modes`` on an OpenAPI operation that stands for
several contracts (the 27 chat modes on ``POST /v1/chat/completions``): each mode's id, family,
``match``, ``priority`` and stream mode; its examples are named ``<id>.<name>``.
"""

from __future__ import annotations

import copy
from typing import Any

from contracts.importer import naming
from contracts.importer.model import Draft, DraftExample


def split(draft: Draft, modes: list[Any]) -> list[Draft]:
    """Operations relaykit's export merged, apart again (``x-relaykit-modes``)."""
    out: list[Draft] = []
    for mode in modes:
        if not isinstance(mode, dict) or not isinstance(mode.get("id"), str):
            continue
        prefix = mode["id"] + "."
        d = copy.copy(draft)
        d.id = naming.operation_id(mode["id"], draft.family, draft.method, draft.path)
        d.operation_id = mode["id"]
        d.family = naming.slug(str(mode.get("family", "")), "-") or draft.family
        d.summary = str(mode.get("summary") or draft.summary)
        d.description = ""
        d.match = dict(mode["match"]) if isinstance(mode.get("match"), dict) else {}
        d.priority = int(mode.get("priority") or 0)
        d.request_examples = _only(draft.request_examples, prefix)
        d.response_examples = _only(draft.response_examples, prefix)
        d.example_urls = []
        when = mode.get("stream")
        if when in ("always", "requested") and draft.stream is not None:
            d.stream = copy.copy(draft.stream)
            d.stream.when = when
            d.stream.examples = _only(draft.stream.examples, prefix)
        else:
            d.stream = None
        if when == "always":
            d.response_type, d.response_schema, d.response_examples = "text/event-stream", None, []
        out.append(d)
    return out or [draft]


def _only(examples: list[DraftExample], prefix: str) -> list[DraftExample]:
    return [
        DraftExample(e.name[len(prefix) :], e.value, e.pointer, e.summary, e.source, e.erratum)
        for e in examples
        if e.name.startswith(prefix)
    ]
