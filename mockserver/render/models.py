"""GET /v1/models and GET /v1/models/{model}: the models the contracts name.

The list holds the documented list example's entries first (their ``owned_by`` and
``created`` as documented), then every other model a contract names (``contracts.model_names``)
in the same shape. A retrieve answers any listed model, and any id a contract's ``model`` glob
selects (``claude-opus-4``, ``gpt-4-gizmo-...``); another id is a 404 ``model_not_found``.
"""

from __future__ import annotations

from typing import Any

from contracts.model import ContractSet
from contracts.model_names import by_pattern, named_models
from mockserver.render.context import RenderContext, RenderError

LIST_RENDER = "models"
CREATED = 1626777600
"""The created time new-api stamps on every model it lists."""


def catalogue(contracts: ContractSet | None) -> dict[str, dict[str, Any]]:
    """Model id -> its list entry, in list order."""
    out: dict[str, dict[str, Any]] = {}
    if contracts is None:
        return out
    for op in contracts:
        if op.response.render != LIST_RENDER:
            continue
        for example in op.response.examples:
            data = example.value.get("data") if isinstance(example.value, dict) else None
            for entry in data if isinstance(data, list) else []:
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    out.setdefault(entry["id"], dict(entry))
    created = next((e.get("created") for e in out.values() if "created" in e), CREATED)
    for named in named_models(contracts):
        out.setdefault(
            named.id,
            {"id": named.id, "object": "model", "created": created, "owned_by": named.owned_by},
        )
    return out


def render_list(ctx: RenderContext) -> Any:
    """The model list: every model the contracts name."""
    return {"object": "list", "data": list(catalogue(ctx.contracts).values())}


def render_retrieve(ctx: RenderContext) -> Any:
    """One model: listed, or selected by a contract's model pattern; else a 404."""
    model = ctx.path_params.get("model", "")
    entries = catalogue(ctx.contracts)
    if model in entries:
        return entries[model]
    named = by_pattern(ctx.contracts, model) if ctx.contracts is not None else None
    if named is None:
        raise RenderError(
            404, f"The model '{model}' does not exist", param="model", code="model_not_found"
        )
    created = next(iter(entries.values()), {}).get("created", CREATED)
    return {"id": model, "object": "model", "created": created, "owned_by": named.owned_by}


JSON = {LIST_RENDER: render_list, "models.retrieve": render_retrieve}
