"""A crude, deterministic token count: enough for consistent usage figures and max_tokens cuts.

A CJK character, a run of word characters, or one punctuation mark is one token. Real
tokenizers differ; the mock only needs to be self-consistent.
"""

from __future__ import annotations

import functools
import re
from typing import Any

IMAGE_TOKENS = 85
"""What one picture in a prompt costs (OpenAI's low-detail image price)."""

_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|\w+|[^\w\s]", re.UNICODE
)


def count(text: str | None) -> int:
    """How many tokens the text has (short texts, an example's answer counted on every
    request, are remembered)."""
    if not text:
        return 0
    return _count_short(text) if len(text) <= 256 else len(_TOKEN.findall(text))


@functools.lru_cache(maxsize=4096)
def _count_short(text: str) -> int:
    return len(_TOKEN.findall(text))


def truncate(text: str, limit: int) -> str:
    """The longest prefix of ``text`` with at most ``limit`` tokens (whitespace kept)."""
    if limit <= 0:
        return ""
    for i, match in enumerate(_TOKEN.finditer(text)):
        if i == limit:
            return text[: match.start()].rstrip()
    return text


def message_text(content: Any) -> str:
    """The text of a chat message's content (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def prompt_tokens(messages: Any) -> int:
    """Tokens in a chat request's messages, with a small per-message overhead as OpenAI counts."""
    if not isinstance(messages, list):
        return 0
    total = 0
    for m in messages:
        if isinstance(m, dict):
            total += 3 + count(message_text(m.get("content")))
            calls = m.get("tool_calls")
            for call in calls if isinstance(calls, list) else []:
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict):
                    total += count(str(fn.get("name") or ""))
                    total += count(str(fn.get("arguments") or ""))
            if isinstance(m.get("content"), list):
                total += IMAGE_TOKENS * sum(
                    1 for p in m["content"] if isinstance(p, dict) and p.get("type") == "image_url"
                )
    return total + 3
