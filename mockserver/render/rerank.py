"""Rerank (Jina / Cohere shape): documents scored by how much of the query they contain.

The score of a document is the share of the query's distinct words it holds, squeezed into
(0, 1) and nudged by a hash of the document so ties keep a stable order: the same request always
answers the same ranking, and a document holding every query word ranks above one holding none.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

from mockserver import tokens
from mockserver.render.context import JsonRenderer, RenderContext

_WORD = re.compile(r"\w+", re.UNICODE)
TEXT_FIELDS = ("text", "content", "title", "body")
"""Fields of a document object that hold its text (Jina's text; Cohere's structured fields)."""


def words(text: str) -> set[str]:
    """The distinct lower-case words of a text."""
    return {w.lower() for w in _WORD.findall(text)}


def document_text(document: Any) -> str:
    """A document's text: the string, or the text fields of an object (else its values)."""
    if isinstance(document, str):
        return document
    if isinstance(document, dict):
        chosen = [document[k] for k in TEXT_FIELDS if isinstance(document.get(k), str)]
        values = chosen or [v for v in document.values() if isinstance(v, str)]
        return " ".join(values)
    return ""


def score(query: str, document: Any) -> float:
    """The relevance of a document to the query, in (0, 1), rounded to 6 places."""
    wanted = words(query)
    text = document_text(document)
    overlap = len(wanted & words(text)) / len(wanted) if wanted else 0.0
    jitter = zlib.crc32(text.encode()) % 1000 / 1_000_000  # below one overlap step
    return round(0.01 + 0.98 * overlap + jitter, 6)


def render_rerank(ctx: RenderContext) -> Any:
    """Every document scored, sorted highest first, cut to top_n, with documents unless
    return_documents is false; usage counts the query once per document plus the documents."""
    query = str(ctx.field("query") or "")
    documents = ctx.field("documents")
    documents = documents if isinstance(documents, list) else []
    scored = sorted(
        ((score(query, d), i, d) for i, d in enumerate(documents)), key=lambda t: (-t[0], t[1])
    )
    top_n = ctx.int_field("top_n")
    if top_n:
        scored = scored[:top_n]
    with_documents = ctx.field("return_documents") is not False
    results = []
    for relevance, index, document in scored:
        result: dict[str, Any] = {"index": index, "relevance_score": relevance}
        if with_documents:
            result["document"] = {"text": document} if isinstance(document, str) else document
        results.append(result)
    used = sum(tokens.count(query) + tokens.count(document_text(d)) for d in documents)
    return {
        "model": ctx.field("model"),
        "results": results,
        "usage": {"prompt_tokens": used, "total_tokens": used},
    }


JSON: dict[str, JsonRenderer] = {"rerank": render_rerank}
