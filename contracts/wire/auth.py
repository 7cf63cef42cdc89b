"""How an API key travels: the schemes contracts name, the header each one uses, how a key is
presented and read back, and which headers and query parameters hold secrets.

A contract's ``auth`` lists scheme names (``bearer``, ``x-api-key``, ``mj-api-secret``,
``access-token``, or ``none``). The mock reads the key a request presents with
``presented_key``, the suites present theirs with ``present``, the OpenAPI export describes
them, and the redactor masks every header a key may sit in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

NONE = "none"
"""The scheme of an operation that takes no key."""


@dataclass(frozen=True, slots=True)
class Scheme:
    """One way of presenting a key: in ``header``, after ``prefix`` (``Bearer ``) if any."""

    name: str
    header: str
    """The header's name as the provider documents it (HTTP compares it case-insensitively)."""
    prefix: str = ""

    @property
    def key(self) -> str:
        """The header's name lower-cased, as ASGI and httpx give it."""
        return self.header.lower()


BEARER = Scheme("bearer", "Authorization", "Bearer ")
SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        BEARER,
        Scheme("x-api-key", "x-api-key"),
        Scheme("mj-api-secret", "mj-api-secret"),
        Scheme("access-token", "Access-Token"),
    )
}
"""Every scheme a contract may name, except ``none``."""

KEY_HEADERS = frozenset(s.key for s in SCHEMES.values())
"""The (lower-case) headers some scheme presents a key in."""
SECRET_HEADERS = KEY_HEADERS | {"x-goog-api-key", "api-key"}
"""Headers whose whole value is a secret: the schemes' and other providers' key headers."""
SECRET_QUERY = frozenset({"key", "api_key", "apikey", "access_token", "token"})
"""Query parameters that carry keys."""


def bearer_token(value: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value; None for anything else."""
    kind, _, token = value.partition(" ")
    token = token.strip()
    return token if kind.lower() == "bearer" and token else None


def presented_secrets(
    headers: Iterable[tuple[str, str]], query: Iterable[tuple[str, str]] = ()
) -> list[str]:
    """Every secret a request carries: the values of secret headers (and a bearer token on its
    own), and the values of secret query parameters; what a redactor must mask."""
    found = []
    for name, value in headers:
        if name.lower() in SECRET_HEADERS:
            found.append(value)
            token = bearer_token(value)
            if token:
                found.append(token)
    found += [value for name, value in query if name.lower() in SECRET_QUERY]
    return found


def present(scheme: str, key: str) -> dict[str, str]:
    """The header presenting ``key`` under ``scheme`` (lower-case name); none for ``none``."""
    found = SCHEMES.get(scheme)
    if found is None:
        return {}
    return {found.key: f"{found.prefix}{key}"}


def presented_key(headers: Mapping[str, str], schemes: Iterable[str]) -> str | None:
    """The key a request presents under any of ``schemes`` ('' when one is ``none``), or None
    when it presents none. ``headers`` is looked up by lower-case name."""
    for name in schemes:
        if name == NONE:
            return ""
        scheme = SCHEMES.get(name)
        if scheme is None:
            continue
        value = headers.get(scheme.key, "")
        if scheme is BEARER:
            token = bearer_token(value)
            if token:
                return token
        elif value.strip():
            return value.strip()
    return None
