"""Examples an operation gives as text: curl commands (``x-codeSamples``, OpenAI's
``x-oaiMeta``, a description), their answers as JSON or SSE text, and the URLs they call
(for the ``path-mismatch`` rule)."""

from __future__ import annotations

from typing import Any

from contracts.importer import dialect, naming, samples
from contracts.importer.model import Draft, DraftExample, DraftStream


def read(draft: Draft, op: dict[str, Any], where: str) -> None:
    """Requests written as curl (x-codeSamples, x-oaiMeta) and answers written as text."""
    texts: list[tuple[str, Any, Any]] = []
    for i, s in enumerate(op.get("x-codeSamples", op.get("x-code-samples", [])) or []):
        if isinstance(s, dict):
            texts.append((f"{where}/x-codeSamples/{i}/source", s.get("source"), None))
    meta = op.get("x-oaiMeta")
    for i, ex in enumerate(meta.get("examples", []) if isinstance(meta, dict) else []):
        if not isinstance(ex, dict):
            continue
        req = ex.get("request")
        curl = req.get("curl") if isinstance(req, dict) else req
        at = f"{where}/x-oaiMeta/examples/{i}"
        texts.append(
            (
                f"{at}/request/curl",
                curl,
                (ex.get("response"), f"{at}/response", str(ex.get("title", ""))),
            )
        )
    if isinstance(meta, dict) and isinstance(meta.get("examples"), dict):
        ex = meta["examples"]
        at = f"{where}/x-oaiMeta/examples"
        req = ex.get("request")
        curl = req.get("curl") if isinstance(req, dict) else req
        texts.append((f"{at}/request/curl", curl, (ex.get("response"), f"{at}/response", "")))
    for i, text in enumerate((op.get("description"), op.get("summary"))):
        if isinstance(text, str) and "curl " in text:
            key = "description" if i == 0 else "summary"
            texts.append((f"{where}/{key}", text, None))
    for url in op.get("x-relaykit-example-urls") or []:
        if isinstance(url, dict) and isinstance(url.get("path"), str):
            draft.example_urls.append((url["path"], str(url.get("pointer", where))))
    taken = {e.name for e in draft.request_examples}
    answers = {e.name for e in draft.response_examples}
    for at, text, answer in texts:
        curl = samples.parse_curl(text) if isinstance(text, str) else None
        if curl is None:
            continue
        draft.example_urls.append((curl.path, at))
        if curl.body is not None and draft.request_type == "application/json":
            title = answer[2] if answer else ""
            name = naming.example_name(title or "curl", taken)
            draft.request_examples.append(DraftExample(name, dialect.fit(curl.body), at, title))
            if answer:
                _answer(draft, name, answer[0], answer[1], answers)


def _answer(draft: Draft, name: str, text: Any, at: str, taken: set[str]) -> None:
    if samples.looks_like_sse(text):
        parsed = samples.parse_sse(text)
        if parsed.events:
            if draft.stream is None:
                draft.stream = DraftStream(when="requested", pointer=at)
            draft.stream.framing = "sse-named" if parsed.named else "sse-data"
            draft.stream.terminator = parsed.terminator or draft.stream.terminator
            draft.stream.examples.append(DraftExample(name, parsed.events, at))
        return
    value = samples.json_value(text)
    if value is not None and draft.response_type == "application/json":
        draft.response_examples.append(DraftExample(naming.example_name(name, taken), value, at))
