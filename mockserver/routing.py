"""Map a method and path to the operations that live there.

Literal paths are looked up in a dict; templated ones (``/mj/task/{id}/fetch``) are tried as
regexes, fewest parameters first, so ``/mj/task/list`` beats ``/mj/task/{id}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from contracts.model import Operation
from contracts.paths import PrefixAlias, PrefixMap, unalias

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(slots=True)
class Route:
    """One path template and its operations per method."""

    template: str
    pattern: re.Pattern[str] | None
    by_method: dict[str, list[Operation]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome of a lookup: the route (None when no path matched) and path parameters."""

    route: Route | None
    params: dict[str, str]

    def operations(self, method: str) -> list[Operation]:
        """The operations for this method; empty when the path exists but not the method."""
        return self.route.by_method.get(method, []) if self.route else []

    @property
    def allowed(self) -> list[str]:
        """The methods the path answers."""
        return sorted(self.route.by_method) if self.route else []


def _compile(template: str) -> re.Pattern[str] | None:
    if "{" not in template:
        return None
    parts = _PARAM.split(template)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
    return re.compile(f"^{regex}$")


def served_paths(op: Operation, bare: bool) -> list[str]:
    """The paths an operation answers: its own, plus the bare form of a /v1 path."""
    paths = [op.path]
    if bare and op.path.startswith("/v1/"):
        paths.append(op.path[3:])
    return paths


class Router:
    """Resolves requests to operations."""

    def __init__(self, operations: Iterable[Operation], bare_paths: bool = True) -> None:
        self._literal: dict[str, Route] = {}
        templated: dict[str, Route] = {}
        for op in operations:
            for path in served_paths(op, bare_paths):
                pattern = _compile(path)
                table = self._literal if pattern is None else templated
                route = table.setdefault(path, Route(path, pattern))
                route.by_method.setdefault(op.method, []).append(op)
        self._templated = sorted(
            templated.values(), key=lambda r: (r.template.count("{"), -len(r.template))
        )

    def find(self, path: str) -> Match:
        """The route for a path (trailing slash ignored), with its parameters."""
        if len(path) > 1:
            path = path.rstrip("/")
        route = self._literal.get(path)
        if route is not None:
            return Match(route, {})
        for route in self._templated:
            assert route.pattern is not None
            m = route.pattern.match(path)
            if m:
                return Match(route, m.groupdict())
        return Match(None, {})

    def locate(
        self, path: str, path_map: PrefixMap, aliases: Iterable[PrefixAlias]
    ) -> tuple[Match, PrefixAlias | None]:
        """The route for a path as a relay serves it: after the user's path map, and failing
        that without a known prefix alias (``/mj-fast/mj`` -> ``/mj``); the alias used, if any.
        The mock, the fault injector and the validating proxy all resolve requests this way."""
        route_path = path_map.to_contract(path) or path
        match = self.find(route_path)
        if match.route is None:
            unaliased, alias = unalias(route_path, aliases)
            if alias is not None:
                return self.find(unaliased), alias
        return match, None


def route_method(method: str) -> str:
    """The method whose operations answer: HEAD is answered as GET."""
    return "GET" if method == "HEAD" else method
