"""Path prefixes: the aliases relays put in front of documented paths, and user remaps.

A relay that mounts Suno at /suno/v1 instead of /suno/submit is common; a ``PrefixMap`` says so
once (``/suno/submit=/suno/v1``) and both the mock (relay path -> contract path) and the suites
(contract path -> relay path) read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


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
