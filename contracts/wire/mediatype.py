"""Media types: what a ``Content-Type`` value names, with its parameters dropped.

The one place a ``Content-Type`` header is cut down to its media type; every check of "is this
JSON, text, a form, a stream?" asks here.
"""

from __future__ import annotations

JSON = "application/json"
MULTIPART_FORM = "multipart/form-data"
EVENT_STREAM = "text/event-stream"
_TEXTUAL = frozenset(
    {"application/x-www-form-urlencoded", "application/xml", "application/javascript"}
)


def media_type(content_type: str | bytes | None) -> str:
    """The media type of a ``Content-Type`` value: parameters dropped, lower-cased ('' for none)."""
    if not content_type:
        return ""
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    return content_type.partition(";")[0].strip().lower()


def is_json(content_type: str | bytes | None) -> bool:
    """True for application/json and the ``+json`` types."""
    kind = media_type(content_type)
    return kind == JSON or kind.endswith("+json")


def is_text(content_type: str | bytes | None) -> bool:
    """True for text/* and the textual application types (forms, XML, JavaScript)."""
    kind = media_type(content_type)
    return kind.startswith("text/") or kind in _TEXTUAL


def is_event_stream(content_type: str | bytes | None) -> bool:
    """True for text/event-stream."""
    return media_type(content_type) == EVENT_STREAM
