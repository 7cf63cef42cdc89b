"""The mock relay: one Starlette app that serves every loaded contract.

A request goes: route (mockserver/resolution.py, once per request) -> auth -> body parsing ->
operation selection -> validation -> Prefer (example, error code, pacing) -> renderer -> JSON,
or SSE frames paced by mockserver/streaming.py. Every failure along the way is answered in the
provider's error envelope; a renderer bug too, as a 500 (``relaykit_mock_bug``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from contracts.model import ContractSet, Example, Operation
from contracts.openapi import to_openapi
from contracts.paths import PrefixMap
from contracts.validation import Validators
from contracts.wire import sse
from contracts.wire.auth import presented_key
from mockserver import ids
from mockserver.answers import (
    MAX_BODY,
    AnswerCache,
    Kept,
    Template,
    read_small_body,
    send_kept,
)
from mockserver.auth import is_authorised
from mockserver.bodies import replaying
from mockserver.config import MockConfig
from mockserver.errors import error_response
from mockserver.files import FILES_PREFIX, render_file
from mockserver.journal import JOURNAL_PATH
from mockserver.lifespan import run_lifespan
from mockserver.prefer import Preferences, PreferError, parse_prefer
from mockserver.render import (
    CONSTANT_JSON,
    JSON_RENDERERS,
    REPEATABLE_JSON,
    REPEATABLE_STREAM,
    STREAM_RENDERERS,
    Event,
    NotStreamed,
    Raw,
    RenderContext,
    RenderError,
)
from mockserver.requests import BodyError, parse_body, read_raw, validation_view
from mockserver.resolution import STATE_KEY, Resolution, Resolver
from mockserver.routing import route_method
from mockserver.state import StateStore, open_store
from mockserver.streaming import Steady, event_frame, frames_out, shaper_of

log = logging.getLogger("relaykit.mock")

HEALTH_PATH = "/_relaykit/health"
OPENAPI_PATH = "/_relaykit/openapi.json"


class MockRelay:
    """The served ASGI app: holds the contracts, the router and the config; ``handle``
    answers one request. A pure ASGI app (no framework router or middleware in the way: one
    endpoint takes every path, so a router would only add work to each request)."""

    def __init__(
        self, contracts: ContractSet, config: MockConfig, store: StateStore | None = None
    ) -> None:
        self.contracts = contracts
        self.answers = AnswerCache()
        self.config = config
        self.resolver = Resolver(contracts, PrefixMap(config.path_map), config.bare_paths)
        self.validators = Validators(contracts.components)
        self.default_envelope = contracts.envelopes["openai"]
        self._jobs: set[asyncio.Task[None]] = set()
        self._base_urls: dict[tuple[Any, ...], str] = {}
        self._constant: dict[tuple[str, str | None], bytes] = {}
        """Bodies of answers that cannot vary (render/__init__.py CONSTANT_JSON), by
        (operation id, example name): rendered by the first request that needs one."""
        self.store = store or open_store(config.state_url, config.state_dir)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point: HTTP requests and the lifespan (nothing to start or stop)."""
        if scope["type"] == "http":
            head = self.answers.head(scope)
            if head is not None:  # answers are kept for such requests
                raw = await read_small_body(scope, receive)
                if raw is not None:  # a request small enough to have a kept answer
                    kept = self.answers.get(self.answers.key(scope, raw, head))
                    if kept is not None:
                        scope.setdefault("state", {})[STATE_KEY] = kept.resolution
                        await send_kept(kept, scope, receive, send)
                        return
                    receive = replaying(raw, receive)
            request = Request(scope, receive, send)
            try:
                response = await self.handle(request)
            except Exception as exc:  # a bug outside the renderers: still in the envelope
                log.exception("the mock failed on %s %s", scope["method"], scope["path"])
                response = error_response(
                    self.default_envelope,
                    500,
                    f"relaykit mock error: {exc!r}",
                    code="relaykit_mock_bug",
                )
            await response(scope, receive, send)
        elif scope["type"] == "lifespan":
            await run_lifespan(receive, send)

    @property
    def config(self) -> MockConfig:
        """The settings (set anew by an embedded mock's pacing: kept answers are dropped)."""
        return self._config

    @config.setter
    def config(self, config: MockConfig) -> None:
        self._config = config
        self.answers.clear()

    async def handle(self, request: Request) -> Response:
        """Answer one request; a successful answer of a repeatable operation is kept for the
        same request (mockserver/answers.py)."""
        path = request.scope["path"]
        if "?" in path or "#" in path or "\\" in path:
            path = request.url.path  # as the URL writes it (escaped)
        if path == HEALTH_PATH:
            return _json({"status": "ok", "operations": len(self.contracts)})
        if path == JOURNAL_PATH:  # reached only when no journal is installed in front
            message = "The request journal is off (relaykit serve --journal 0)."
            return error_response(self.default_envelope, 404, message, code="journal_off")
        if path == OPENAPI_PATH:
            return _json(to_openapi(self.contracts))
        if path.startswith(FILES_PREFIX):
            return self._file(path[len(FILES_PREFIX) :])
        resolution = self.resolver.of(request.scope)
        candidates = resolution.candidates
        if not candidates:
            return self._no_route(request, resolution.match.allowed)
        envelope = self.contracts.envelopes[candidates[0].errors.envelope]
        schemes = resolution.match.schemes(route_method(request.method))
        query_params = request.query_params if request.scope.get("query_string") else None
        key = presented_key(request.headers, schemes, query_params)
        if not is_authorised(key, self.config.api_keys, schemes):
            message = "You didn't provide an API key." if not key else "Incorrect API key provided."
            return error_response(envelope, 401, message, code="invalid_api_key" if key else None)
        try:
            prefs = parse_prefer(request.headers.get("prefer"))
            raw = await read_raw(request, self.config.max_body_bytes)
            body, uploads = await parse_body(request, raw, candidates[0].request.content_type)
        except PreferError as exc:
            return error_response(envelope, 400, str(exc), param="Prefer")
        except BodyError as exc:
            return error_response(envelope, exc.status, exc.message, param=exc.param)
        op = self.resolver.choose(resolution, body)
        headers = {"X-Relaykit-Operation": op.id, "X-Request-Id": ids.hex_token(12)}
        alias = resolution.alias
        if alias is not None:
            headers["X-Relaykit-Prefix"] = f"{alias.alias} ({alias.meaning})"
        view = validation_view(op, body)
        if view is not None and op.request.schema is not None:
            problems = self.validators.problems(op.request.schema, view, limit=1)
            if problems:
                p = problems[0]
                return error_response(
                    envelope, 400, f"Invalid request: {p}", param=p.param, headers=headers
                )
        if prefs.code is not None:
            return self._documented_error(op, prefs.code, headers)
        query = dict(query_params) if query_params is not None else {}
        wants_stream = op.wants_stream(view if isinstance(view, dict) else body, query)
        try:
            example = self._example(op, prefs, wants_stream)
        except LookupError as exc:
            return error_response(envelope, 400, str(exc), param="Prefer", headers=headers)
        constant = not wants_stream and op.response.render in CONSTANT_JSON
        kept = (op.id, example.name if example else None)
        if constant and kept in self._constant:
            return self._answer(request, raw, resolution, op, self._constant[kept], headers, [], 0)
        ctx = RenderContext(
            op=op,
            body=body,
            example=example,
            validators=self.validators,
            path_params=resolution.match.params,
            query=query,
            base_url=self._base_url(request),
            scenario=prefs.task or "success",
            task_speed=self.config.task_speed,
            accept=request.headers.get("accept", ""),
            uploads=uploads,
            store=self.store,
            contracts=self.contracts,
        )
        try:
            if wants_stream:
                assert op.stream is not None
                try:
                    events = STREAM_RENDERERS[op.stream.render](ctx)
                    return self._stream(op, events, prefs, headers, request, raw, ctx, resolution)
                except NotStreamed:  # the provider ignores the stream flag for this request
                    ctx.example = self._example(op, prefs, stream=False)
            payload = JSON_RENDERERS[op.response.render](ctx)
        except RenderError as exc:
            return error_response(
                envelope, exc.status, exc.message, param=exc.param, code=exc.code, headers=headers
            )
        except Exception as exc:  # a renderer bug must still answer in the envelope
            log.exception("renderer failed for %s", op.id)
            return error_response(
                envelope,
                500,
                f"relaykit mock error in {op.id}: {exc!r}",
                code="relaykit_mock_bug",
                headers=headers,
            )
        for job in ctx.after if self.config.callbacks else ():
            self._spawn(job())
        if isinstance(payload, Raw):
            return Response(
                payload.body,
                status_code=payload.status or op.response.status,
                media_type=payload.media_type,
                headers={**payload.headers, **headers},
            )
        content = orjson.dumps(payload)
        if constant:
            self._constant[kept] = content
        return self._answer(
            request, raw, resolution, op, content, headers, ctx.minted, ctx.now, ctx.after
        )

    def _answer(
        self,
        request: Request,
        raw: bytes,
        resolution: Resolution,
        op: Operation,
        content: bytes,
        headers: dict[str, str],
        minted: list[str],
        now: int,
        after: list[Any] | None = None,
    ) -> Response:
        """The JSON answer, kept for the same request when its operation is repeatable."""
        response = Response(
            content,
            status_code=op.response.status,
            media_type=op.response.content_type,
            headers=headers,
        )
        if not after and op.response.render in REPEATABLE_JSON:
            self._keep(request, raw, response, content, minted, now, resolution)
        return response

    def _keep(
        self,
        request: Request,
        raw: bytes,
        response: Response,
        data: bytes,
        minted: list[str],
        now: int,
        resolution: Resolution,
        frames: list[bytes] | None = None,
        pacing: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        """Keep a repeatable operation's answer (``data``: the body, or the stream's
        ``frames`` joined) for the same request, the second time it comes
        (mockserver/answers.py)."""
        if len(data) > MAX_BODY or len(raw) > MAX_BODY:
            return
        key = AnswerCache.key(request.scope, raw)
        if not self.answers.wanted(key):
            return
        template = Template.of(data, minted, now)
        if template is None:
            return
        drop = (b"x-request-id", b"content-length")
        headers = tuple((k, v) for k, v in response.raw_headers if k not in drop)
        lengths = tuple(len(frame) for frame in frames or ())
        kept = Kept(response.status_code, headers, template, resolution, lengths, pacing)
        self.answers.keep(key, kept)

    def _base_url(self, request: Request) -> str:
        """``str(request.base_url)``, kept by what it is made of (scheme, server, Host, root
        path): the same few values on every request."""
        scope = request.scope
        host = next((v for k, v in scope["headers"] if k == b"host"), None)
        root = scope.get("app_root_path", scope.get("root_path", ""))
        server = scope.get("server")
        made_of = (scope.get("scheme"), tuple(server) if server else None, host, root)
        found = self._base_urls.get(made_of)
        if found is None:
            found = str(request.base_url)
            if len(self._base_urls) < 256:  # Host is the client's to choose: a bound
                self._base_urls[made_of] = found
        return found

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        """Run a job after the response (task callbacks), keeping a reference until it ends."""
        running = asyncio.get_running_loop().create_task(job)
        self._jobs.add(running)
        running.add_done_callback(self._jobs.discard)

    def serves(self, op: Operation) -> bool:
        """True when a request to the operation's path and method reaches a renderer it has."""
        if not self.resolver.router.find(op.path).operations(op.method):
            return False
        if op.stream is not None and op.stream.render not in STREAM_RENDERERS:
            return False
        return op.response.render in JSON_RENDERERS

    def _file(self, name: str) -> Response:
        served = render_file(name) if "/" not in name else None
        if served is None:
            return error_response(self.default_envelope, 404, f"No file {name!r} is served here.")
        content, media_type = served
        return Response(content, media_type=media_type, headers={"Cache-Control": "max-age=3600"})

    def _no_route(self, request: Request, allowed: list[str]) -> Response:
        envelope = self.default_envelope
        where = f"{request.method} {request.url.path}"
        if allowed:
            return error_response(
                envelope,
                405,
                f"Method not allowed ({where}).",
                headers={"Allow": ", ".join(allowed)},
            )
        return error_response(envelope, 404, f"Invalid URL ({where})", code="invalid_url")

    def _documented_error(self, op: Operation, status: int, headers: dict[str, str]) -> Response:
        envelope = self.contracts.envelopes[op.errors.envelope]
        documented = next(
            (e for e in op.errors.documented if e.status == status and e.example), None
        )
        body = documented.example if documented else None
        return error_response(
            envelope, status, body=body, headers={**headers, "X-Relaykit-Simulated": "1"}
        )

    def _example(self, op: Operation, prefs: Preferences, stream: bool) -> Example | None:
        primary = op.stream_example if stream else op.example
        secondary = op.example if stream else op.stream_example
        if prefs.example is None:
            return primary() or secondary()
        found = primary(prefs.example) or secondary(prefs.example)
        if found is None:
            names = [
                e.name
                for e in (*op.response.examples, *(op.stream.examples if op.stream else ()))
                if e.servable
            ]
            known = ", ".join(names) or "none"
            raise LookupError(f"No example named {prefs.example!r} for {op.id}; known: {known}")
        return found

    def _stream(
        self,
        op: Operation,
        events: list[Event],
        prefs: Preferences,
        headers: dict[str, str],
        request: Request,
        raw: bytes,
        ctx: RenderContext,
        resolution: Resolution,
    ) -> Response:
        """The events as a paced SSE stream, kept for the same request when its operation is
        repeatable (mockserver/answers.py)."""
        assert op.stream is not None
        ttfe = self.config.ttfe if prefs.ttfe is None else prefs.ttfe
        interval = self.config.interval if prefs.interval is None else prefs.interval
        frames = [event_frame(e) for e in events[: self.config.max_events]]
        if op.stream.terminator is not None:
            frames.append(sse.encode(op.stream.terminator))
        response = StreamingResponse(
            frames_out(frames, Steady(ttfe, interval), shaper_of(request.scope)),
            media_type=sse.MEDIA_TYPE,
            headers={**headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        if op.stream.render in REPEATABLE_STREAM and not ctx.after:
            joined = b"".join(frames)
            self._keep(
                request,
                raw,
                response,
                joined,
                ctx.minted,
                ctx.now,
                resolution,
                frames=frames,
                pacing=(ttfe, interval),
            )
        return response


def _json(payload: Any) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


def create_app(
    contracts: ContractSet | None = None,
    config: MockConfig | None = None,
    store: StateStore | None = None,
) -> MockRelay:
    """The ASGI app serving ``contracts`` (default: the shipped ones), its state in ``store``
    (default: the one ``config`` names)."""
    if contracts is None:
        from contracts.loader import default_contracts  # serving passes its own: not imported

        contracts = default_contracts()
    return MockRelay(contracts, config or MockConfig(), store)
