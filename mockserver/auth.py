"""Who may call: the key a request presents (read by ``contracts.wire.auth.presented_key``)
checked against the keys the mock was given."""

from __future__ import annotations

from collections.abc import Iterable

from contracts.wire.auth import NONE


def is_authorised(key: str | None, accepted: frozenset[str], schemes: Iterable[str]) -> bool:
    """True when the key is acceptable: any non-empty key, or one of the configured keys."""
    if NONE in schemes:
        return True
    if not key:
        return False
    return not accepted or key in accepted or key.removeprefix("sk-") in accepted
