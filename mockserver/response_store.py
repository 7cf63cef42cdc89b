"""Stored Responses API responses: save, load and delete one JSON document by id.

What GET/DELETE /v1/responses/{id}, its input_items and ``previous_response_id`` chaining need,
shared by every worker process and, with ``--state-url``, every mock: the state store
(mockserver/state/), kind ``responses``, each document kept 30 days as OpenAI keeps stored
responses. The document is whatever render/responses.py keeps (the response, its input items,
the conversation so far); this module knows nothing of its shape.
"""

from __future__ import annotations

from typing import Any

from mockserver.state import StateStore

KIND = "responses"
TTL = 30 * 24 * 3600.0
"""Seconds a stored response is kept (OpenAI: 30 days)."""


def save(store: StateStore | None, doc_id: str, document: Any) -> bool:
    """Keep ``document`` under ``doc_id`` (replacing one there); False when it could not be."""
    return store is not None and store.put(KIND, doc_id, document, ttl=TTL)


def load(store: StateStore | None, doc_id: str) -> Any:
    """The document kept under ``doc_id``, or None."""
    return store.get(KIND, doc_id) if store is not None else None


def delete(store: StateStore | None, doc_id: str) -> bool:
    """Forget ``doc_id``; True when it was there."""
    return store is not None and store.delete(KIND, doc_id)
