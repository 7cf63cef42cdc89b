"""Map a method and path to the operations that live there.

Literal paths are looked up in a dict; templated ones (``/mj/task/{id}/fetch``,
``contracts.paths.PathTemplate``) are tried fewest parameters first, so ``/mj/task/list`` beats
``/mj/task/{id}``. mockserver/resolution.py builds on this to resolve a request once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from contracts.model import Operation
from contracts.paths import PathTemplate, PrefixAlias, PrefixMap, template, unalias


@dataclass(slots=True)
class Route:
    """One path template and its operations per method."""

    template: PathTemplate
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
                shape = template(path)
                table = self._literal if shape.pattern is None else templated
                route = table.setdefault(path, Route(shape))
                route.by_method.setdefault(op.method, []).append(op)
        self._templated = sorted(
            templated.values(), key=lambda r: (len(r.template.names), -len(r.template.text))
        )

    def find(self, path: str) -> Match:
        """The route for a path (trailing slash ignored), with its parameters."""
        if len(path) > 1:
            path = path.rstrip("/")
        route = self._literal.get(path)
        if route is not None:
            return Match(route, {})
        for route in self._templated:
            params = route.template.match(path)
            if params is not None:
                return Match(route, params)
        return Match(None, {})

    def locate(
        self,
        path: str,
        path_map: PrefixMap,
        aliases: Iterable[PrefixAlias],
        method: str | None = None,
    ) -> tuple[Match, PrefixAlias | None]:
        """The route for a path as a relay serves it: after the user's path map, and failing
        that (no route, or one that does not answer ``method``) without a known prefix alias
        (``/mj-fast/mj`` -> ``/mj``; ``POST /v1/models/{model}:generateContent`` ->
        ``/v1beta/...``, beside OpenAI's ``GET /v1/models/{model}``); the alias used, if any.
        The mock, the fault injector and the validating proxy all resolve requests this way."""
        route_path = path_map.to_contract(path) or path
        match = self.find(route_path)
        if match.route is None or (method is not None and not match.operations(method)):
            unaliased, alias = unalias(route_path, aliases)
            if alias is not None:
                found = self.find(unaliased)
                if match.route is None or found.operations(method or ""):
                    return found, alias
        return match, None


def route_method(method: str) -> str:
    """The method whose operations answer: HEAD is answered as GET."""
    return "GET" if method == "HEAD" else method
