"""How an API key travels: the schemes contracts name, the header each one uses, how a key is
presented and read back, and which headers and query parameters hold secrets.

A contract's ``auth`` lists scheme names (``bearer``, ``x-api-key``, ``mj-api-secret``,
``access-token``, Gemini's ``x-goog-api-key`` header and ``key-query`` query parameter, or
``none``). The mock reads the key a request presents with ``presented_key``, the suites present
theirs with ``present`` (headers) and ``present_query`` (query parameters), the OpenAPI export
describes them, and the redactor masks every header and query parameter a key may sit in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

NONE = "none"
"""The scheme of an operation that takes no key."""


@dataclass(frozen=True, slots=True)
class Scheme:
    """One way of presenting a key: in the header (or query parameter) ``param``, after
    ``prefix`` (``Bearer ``) if any."""

    name: str
    param: str
    """The header's or query parameter's name as the provider documents it."""
    prefix: str = ""
    location: Literal["header", "query"] = "header"

    @property
    def key(self) -> str:
        """The header's name lower-cased, as ASGI and httpx give it (a query parameter's
        name as it is: query names are case-sensitive)."""
        return self.param.lower() if self.location == "header" else self.param


BEARER = Scheme("bearer", "Authorization", "Bearer ")
SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        BEARER,
        Scheme("x-api-key", "x-api-key"),
        Scheme("mj-api-secret", "mj-api-secret"),
        Scheme("access-token", "Access-Token"),
        Scheme("x-goog-api-key", "x-goog-api-key"),
        Scheme("key-query", "key", location="query"),
    )
}
"""Every scheme a contract may name, except ``none``."""

KEY_HEADERS = frozenset(s.key for s in SCHEMES.values() if s.location == "header")
"""The (lower-case) headers some scheme presents a key in."""
KEY_QUERY = frozenset(s.key for s in SCHEMES.values() if s.location == "query")
"""The query parameters some scheme presents a key in (Gemini's ``?key=``)."""
SECRET_HEADERS = KEY_HEADERS | {"api-key"}
"""Headers whose whole value is a secret: the schemes' and other providers' key headers."""
SECRET_QUERY = KEY_QUERY | {"api_key", "apikey", "access_token", "token"}
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
    """The header presenting ``key`` under ``scheme`` (lower-case name); none for ``none`` or
    a scheme that presents it in the query (``present_query``)."""
    found = SCHEMES.get(scheme)
    if found is None or found.location != "header":
        return {}
    return {found.key: f"{found.prefix}{key}"}


def present_query(scheme: str, key: str) -> dict[str, str]:
    """The query parameter presenting ``key`` under ``scheme``; none for a header scheme."""
    found = SCHEMES.get(scheme)
    if found is None or found.location != "query":
        return {}
    return {found.key: f"{found.prefix}{key}"}


def presented_key(
    headers: Mapping[str, str], schemes: Iterable[str], query: Mapping[str, str] | None = None
) -> str | None:
    """The key a request presents under any of ``schemes`` ('' when one is ``none``), or None
    when it presents none. ``headers`` is looked up by lower-case name, ``query`` (the
    request's query parameters) by the parameter's name."""
    for name in schemes:
        if name == NONE:
            return ""
        scheme = SCHEMES.get(name)
        if scheme is None:
            continue
        source = headers if scheme.location == "header" else (query or {})
        value = source.get(scheme.key, "")
        if scheme is BEARER:
            token = bearer_token(value)
            if token:
                return token
        elif value.strip():
            return value.strip()
    return None
