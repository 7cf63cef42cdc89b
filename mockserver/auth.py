"""Who may call: the key schemes a contract accepts, checked against the configured keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

_HEADERS = {
    "x-api-key": "x-api-key",
    "mj-api-secret": "mj-api-secret",
    "access-token": "access-token",
}


def presented_key(headers: Mapping[str, str], schemes: Iterable[str]) -> str | None:
    """The key the request presents under any of the schemes, or None when it presents none."""
    for scheme in schemes:
        if scheme == "none":
            return ""
        if scheme == "bearer":
            value = headers.get("authorization", "")
            kind, _, token = value.partition(" ")
            if kind.lower() == "bearer" and token.strip():
                return token.strip()
        elif scheme in _HEADERS:
            value = headers.get(_HEADERS[scheme], "").strip()
            if value:
                return value
    return None


def is_authorised(key: str | None, accepted: frozenset[str], schemes: Iterable[str]) -> bool:
    """True when the key is acceptable: any non-empty key, or one of the configured keys."""
    if "none" in schemes:
        return True
    if not key:
        return False
    return not accepted or key in accepted or key.removeprefix("sk-") in accepted
