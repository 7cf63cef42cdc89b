"""Documented paths: their ``{name}`` templates, the aliases relays put in front of them, and
user remaps.

A ``PathTemplate`` (``/mj/task/{id}/fetch``) is matched and filled here and nowhere else: by the
mock's router, the suites' probes and run record, and the OpenAPI export. A relay that mounts
Suno at /suno/v1 instead of /suno/submit is common; a ``PrefixMap`` says so once
(``/suno/submit=/suno/v1``) and both the mock (relay path -> contract path) and the suites
(contract path -> relay path) read it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_PARAM = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True, slots=True)
class PathTemplate:
    """A documented path whose ``{name}`` segments stand for one path segment each."""

    text: str
    names: tuple[str, ...]
    """The parameters, in order."""
    pattern: re.Pattern[str] | None
    """The compiled matcher; None for a literal path (compared as is)."""

    def match(self, path: str) -> dict[str, str] | None:
        """The parameters' values when ``path`` fits the template, else None."""
        if self.pattern is None:
            return {} if path == self.text else None
        found = self.pattern.match(path)
        return dict(zip(self.names, found.groups(), strict=True)) if found else None

    def fill(self, values: Mapping[str, str]) -> str:
        """The path with the parameters ``values`` has filled in (the others stay ``{name}``)."""
        if self.pattern is None:
            return self.text
        return _PARAM.sub(lambda m: values.get(m.group(1), m.group(0)), self.text)


@functools.cache
def template(text: str) -> PathTemplate:
    """The template of a documented path (compiled once per path)."""
    parts = _PARAM.split(text)
    names = tuple(parts[1::2])
    if not names:
        return PathTemplate(text, (), None)
    regex = "".join(re.escape(p) if i % 2 == 0 else "([^/]+)" for i, p in enumerate(parts))
    return PathTemplate(text, names, re.compile(f"^{regex}$"))


@dataclass(frozen=True, slots=True)
class PrefixAlias:
    """One prefix a relay may use for a documented one (e.g. ``/mj-fast/mj`` for ``/mj``)."""

    alias: str
    target: str
    meaning: str = ""


def _strip(prefix: str) -> str:
    return "/" + prefix.strip("/")


def _under(path: str, prefix: str) -> str | None:
    if path == prefix:
        return ""
    if path.startswith(prefix + "/"):
        return path[len(prefix) :]
    return None


@dataclass(frozen=True, slots=True)
class PrefixMap:
    """Pairs of (contract prefix, relay prefix); the longest matching prefix wins."""

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, specs: Iterable[str]) -> PrefixMap:
        """From ``CONTRACT_PREFIX=RELAY_PREFIX`` strings; ValueError names a malformed one."""
        pairs = []
        for spec in specs:
            contract, sep, relay = spec.partition("=")
            if not sep or not contract.strip("/") or not relay.strip("/"):
                raise ValueError(f"path map {spec!r}: expected CONTRACT_PREFIX=RELAY_PREFIX")
            pairs.append((_strip(contract), _strip(relay)))
        return cls(tuple(pairs))

    def to_contract(self, path: str) -> str | None:
        """The contract path for a path the relay serves, or None when no pair applies."""
        for contract, relay in sorted(self.pairs, key=lambda p: -len(p[1])):
            rest = _under(path, relay)
            if rest is not None:
                return contract + rest
        return None

    def to_relay(self, path: str) -> str:
        """The path the relay serves for a contract path (unchanged when no pair applies)."""
        for contract, relay in sorted(self.pairs, key=lambda p: -len(p[0])):
            rest = _under(path, contract)
            if rest is not None:
                return relay + rest
        return path


def shadowed(path_map: PrefixMap, documented: Iterable[str]) -> list[str]:
    """Documented paths a path map hides: they start with a relay prefix the map claims for
    another documented prefix (``/suno/submit=/suno/v1`` hides ``/suno/v1/music``)."""
    out = []
    for path in sorted(set(documented)):
        for contract, relay in path_map.pairs:
            if _under(path, relay) is not None and _under(path, contract) is None:
                out.append(f"{path} (under {relay}, which the map gives to {contract})")
    return out


def unalias(path: str, aliases: Iterable[PrefixAlias]) -> tuple[str, PrefixAlias | None]:
    """The documented path behind an aliased one, and the alias used (None when none applies)."""
    for alias in sorted(aliases, key=lambda a: -len(a.alias)):
        rest = _under(path, alias.alias)
        if rest is not None:
            return alias.target + rest, alias
    return path, None
