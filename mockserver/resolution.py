"""The operation a request means, resolved once per request and handed on in the ASGI scope.

Several layers need it: the fault injector (rules by operation id, the envelope of an injected
error), the contract app (everything it answers), and the validating proxy (what it judges
against). ``Resolver.of(scope)`` resolves a request's method and path the first time a layer
asks (after the relay's path map, failing that without a known prefix alias, ``HEAD`` as
``GET``) and keeps the ``Resolution`` in the scope's state, where the next layer finds it. Among
several operations on one route the body decides (``choose``), once, by whichever layer reads the
body first.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import Receive, Scope

from contracts.model import ContractSet, Envelope, Operation
from contracts.paths import PrefixAlias, PrefixMap
from contracts.selection import rank, select
from mockserver.bodies import read_all, replaying
from mockserver.errors import MockError
from mockserver.requests import read_body
from mockserver.routing import Match, Router, route_method

STATE_KEY = "relaykit.resolution"
"""Where a request's Resolution is kept in the ASGI scope's ``state``."""


@dataclass(slots=True)
class Resolution:
    """The route a request reaches, the operations on it for the method, and the one it means
    (set at once when only one is there, else when the body is known)."""

    match: Match
    alias: PrefixAlias | None
    """The relay prefix alias the path was found under (``/mj-fast``), if any."""
    candidates: list[Operation]
    operation: Operation | None
    made_by: tuple[int, PrefixMap, bool]
    """The settings of the resolver that made it (a resolver with others resolves again)."""


class Resolver:
    """Resolves requests to operations for one contract set, path map and bare-path setting."""

    def __init__(
        self, contracts: ContractSet, path_map: PrefixMap | None = None, bare_paths: bool = True
    ) -> None:
        self.contracts = contracts
        self.router = Router(contracts.operations, bare_paths=bare_paths)
        self.path_map = path_map or PrefixMap()
        self.identity = (id(contracts), self.path_map, bare_paths)

    def resolve(self, method: str, path: str) -> Resolution:
        """The route and operations for a method and path."""
        routed = route_method(method)
        match, alias = self.router.locate(
            path, self.path_map, self.contracts.prefix_aliases, routed
        )
        ops = match.operations(routed)
        return Resolution(match, alias, ops, ops[0] if len(ops) == 1 else None, self.identity)

    def of(self, scope: Scope) -> Resolution:
        """The request's resolution: the one kept in its scope, or resolved now and kept."""
        state = scope.setdefault("state", {})
        found: Resolution | None = state.get(STATE_KEY)
        if found is None or found.made_by != self.identity:
            found = state[STATE_KEY] = self.resolve(scope["method"], scope["path"])
        return found

    @staticmethod
    def choose(resolution: Resolution, body: Any) -> Operation:
        """The operation the body means among the candidates (kept: asked again, the same)."""
        if resolution.operation is None:
            ops = resolution.candidates
            resolution.operation = select(ops, body) or rank(ops)[-1]
        return resolution.operation

    async def choose_by_body(
        self, scope: Scope, receive: Receive, resolution: Resolution, max_bytes: int
    ) -> Receive:
        """Read the body once to choose the operation before the app does; returns a ``receive``
        that gives the app the same body."""
        raw = await read_all(receive)
        body: Any = None
        if len(raw) <= max_bytes:  # larger: the app answers 413 anyway
            content_type = resolution.candidates[0].request.content_type
            with contextlib.suppress(MockError):
                request = Request(scope, replaying(raw))
                body, _ = await read_body(request, content_type, len(raw) + 1)
        self.choose(resolution, body)
        return replaying(raw, receive)

    def envelope(self, resolution: Resolution) -> Envelope:
        """The error envelope of the request's operations; OpenAI's where there are none."""
        ops = resolution.candidates
        return self.contracts.envelopes[ops[0].errors.envelope if ops else "openai"]
