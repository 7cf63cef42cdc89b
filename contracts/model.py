"""The contract model: typed, immutable views of the YAML contracts.

The loader builds these from validated YAML; the mock, the suites and the OpenAPI export read
them. Nothing here parses files or knows about HTTP servers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from contracts.paths import PrefixAlias

JSON = Any
Framing = Literal["sse-data", "sse-named"]
Grammar = Literal["openai", "anthropic", "gemini", "responses"]


@dataclass(frozen=True, slots=True)
class SeedRef:
    """One seed page that documents the operation, with its verbatim Chinese title."""

    file: str
    title: str
    line: int | None = None
    nav: str = ""
    not_enabled: bool = False


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where the operation comes from and how sure we are of its path."""

    seeds: tuple[SeedRef, ...]
    path_source: str
    path_confidence: str
    implied: bool = False
    reference: str = ""
    not_enabled: bool = False
    notes: str = ""
    source: str = ""
    """For an operation no seed lists: the public API reference it is contracted from."""

    @property
    def beyond_seeds(self) -> bool:
        """True for an operation the seeds do not document (contracted from ``source``)."""
        return bool(self.source) and not self.seeds


@dataclass(frozen=True, slots=True)
class Example:
    """A named example: a request or response body, or a stream's list of events."""

    name: str
    value: JSON
    source: str = ""
    summary: str = ""
    erratum: str = ""
    query: Mapping[str, str] = field(default_factory=dict)
    """A request example's query parameters (Gemini's ``alt=sse``)."""

    @property
    def servable(self) -> bool:
        """False for a seed's verbatim example kept only as evidence of an erratum."""
        return not self.erratum


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """What the operation accepts."""

    content_type: str
    schema: JSON | None
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True, slots=True)
class ResponseSpec:
    """The success response of a non-streamed call."""

    status: int
    content_type: str
    schema: JSON | None
    examples: tuple[Example, ...] = ()
    render: str = "static"
    alternatives: tuple[str, ...] = ()
    """Other content types the same success can be served as, chosen by the request
    (``response_format``, ``output_format``, ``Accept``, ``variant``): the OpenAPI export lists
    them beside ``content_type``."""

    @property
    def content_types(self) -> tuple[str, ...]:
        """Every content type a success answer not streamed can have, the declared one first."""
        return tuple(dict.fromkeys((self.content_type, *self.alternatives)))




@dataclass(frozen=True, slots=True)
class StreamFlag:
    """How a request asks for the stream of a ``when: requested`` operation: the body field
    ``stream`` true (OpenAI, Anthropic), or a query parameter (Gemini's ``?alt=sse``)."""

    location: Literal["body", "query"] = "body"
    name: str = "stream"
    value: JSON = True

    def to_yaml(self) -> dict[str, JSON]:
        """As a contract writes it (``{body: stream_format, value: sse}``)."""
        return {self.location: self.name, "value": self.value}

    def asked(self, body: Any, query: Mapping[str, str]) -> bool:
        """True when the request asks for the stream: the value itself (``1`` is not ``true``),
        or, for a boolean, its text as a form or a query writes it (``"true"``)."""
        source = query if self.location == "query" else body
        return isinstance(source, Mapping) and _same(source.get(self.name), self.value)


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """A server-sent-event stream: its framing, event schema(s) and terminator."""

    framing: Framing
    when: Literal["always", "requested"]
    event_schema: JSON | None
    events: Mapping[str, JSON]
    terminator: str | None
    examples: tuple[Example, ...]
    render: str = "static"
    asked_by: StreamFlag = field(default_factory=StreamFlag)
    """``when: requested``: how a request asks for the stream."""
    grammar: Grammar = "openai"
    """Whose stream grammar the suites judge it by (sse-named streams: anthropic)."""


@dataclass(frozen=True, slots=True)
class DocumentedError:
    """An error status the documentation (or the provider) gives for this operation."""

    status: int
    when: str = ""
    example: JSON | None = None


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """The operation's error envelope and its documented errors."""

    envelope: str
    documented: tuple[DocumentedError, ...] = ()


@dataclass(frozen=True, slots=True)
class Cost:
    """Whether a real call spends money, and roughly how much, for the budget."""

    paid: bool
    unit: str
    estimate: float = 0.0


@dataclass(frozen=True, slots=True)
class Erratum:
    """Where the seed documentation is wrong and what the contract does instead."""

    ref: str
    seed_says: str
    contract_does: str
    why: str = ""


@dataclass(frozen=True, slots=True)
class Condition:
    """One test of `match`: a dotted field path ('*' walks arrays) and what must hold there."""

    field: str
    op: Literal["equals", "glob", "present", "contains", "gt", "prefix"]
    value: JSON

    def describe(self) -> str:
        """A short human form, e.g. ``stream == true``."""
        return f"{self.field} {self.op} {self.value!r}"


TaskRole = Literal["submit", "poll", "list", "cancel"]
ProgressFormat = Literal["percent-string", "percent-number", "fraction", "none"]


@dataclass(frozen=True, slots=True)
class TimelineStep:
    """A point of the mock's progression of a task: from ``after`` seconds after submit, the task
    is in ``state`` (with ``progress`` when the step gives one)."""

    after: float
    state: str
    progress: JSON = None
    has_progress: bool = False


Answer = str | int
"""What a submit answers when its parent task does not fit: the name of one of its response
examples, or an HTTP status whose documented error (its example) answers."""


@dataclass(frozen=True, slots=True)
class ParentSpec:
    """submit: the earlier task a request names (Midjourney's action on ``taskId``, the modal
    that continues a task, Suno's continuation of a clip). The parent must be a task the mock
    issued (else ``unknown`` answers), be in ``state`` (else ``wrong_state``), and, with
    ``choice``, the request's value there must be one of the parent's answer values at
    ``among`` (else ``bad_choice``). ``continues``: the submit answers the parent's own id and the
    parent's timeline restarts (the modal), instead of a new task. ``optional``: only checked
    when the request names a parent."""

    field: str
    """The request's path parameter, query parameter or body dotted path with the parent id."""
    state: str | None = None
    """The state the parent must be in; None: the poll's success state."""
    choice: str | None = None
    among: str | None = None
    continues: bool = False
    optional: bool = False
    unknown: Answer = 404
    wrong_state: Answer = 400
    bad_choice: Answer = 400


@dataclass(frozen=True, slots=True)
class TaskBranch:
    """submit: what a request that meets ``when`` does besides the default: answer another
    response example (``answer``, e.g. Midjourney's code 21), wait in a state until a submit
    ``continues`` it (``waits``), or end in a named success example of the poll
    (``ends_as``: an upscale ends with the upscale's buttons)."""

    when: tuple[Condition, ...]
    answer: str | None = None
    waits: str | None = None
    ends_as: str | None = None


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A contract's ``task`` block: how an async task is submitted, polled, listed or cancelled,
    and (on the poll) its state machine. The mock and the suites read this one typed view with
    these defaults; the loader checks it (a poll has states, terminal states and a success among
    them; the others name a poll) and fills what is inferred (see ``contracts/loader.py``)."""

    role: TaskRole
    poll: str | None = None
    """submit, list, cancel: the id of the operation that polls the task."""
    id_field: str = "id"
    """submit and poll: dotted path of the task id in the answer (``result``, ``data.task_id``)."""
    id_param: str = "id"
    """poll and cancel: the path, query or body parameter that carries the id (a cancel without
    one takes its poll's)."""
    callback_field: str | None = None
    """submit: the request field holding a callback URL (``notifyHook``, ``callback_url``)."""
    status_field: str = "status"
    """poll: dotted path of the task's state in the answer."""
    states: tuple[str, ...] = ()
    initial: tuple[str, ...] = ()
    terminal: tuple[str, ...] = ()
    success: str | None = None
    """poll: the terminal state of a successful task (the other terminal states are failures)."""
    transitions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """poll: the states each state may move to."""
    progress_field: str | None = None
    progress_format: ProgressFormat | None = None
    """How progress is written; None reads numbers as percent."""
    result_urls: tuple[str, ...] = ()
    """poll: dotted paths ('*' walks arrays) of result URLs in a successful task."""
    timeline: tuple[TimelineStep, ...] = ()
    """poll: the mock's progression; success at once when the contract gives none."""
    remember: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """submit: request dotted path -> the poll answer's dotted paths that show its value (the
    prompt, size, duration, title... the task was submitted with), in the example's type."""
    given_only: tuple[str, ...] = ()
    """submit: remembered request fields the answer shows only when given (notify hooks): their
    answer fields are emptied when the request lacks them."""
    result_size: tuple[str, str] | None = None
    """submit: the request's width and height paths, the size of the result images served."""
    parent: ParentSpec | None = None
    branches: tuple[TaskBranch, ...] = ()
    """submit: the first branch whose conditions hold applies."""
    submit_time: tuple[str, ...] = ()
    """poll: answer paths of the submit time, written in the example's form (ms, s, ISO 8601)."""
    fresh_ids: tuple[str, ...] = ()
    """poll: answer paths whose UUIDs (clip, image, message ids) are made per task, wherever
    they appear in the answer."""

    @property
    def failures(self) -> tuple[str, ...]:
        """The terminal states other than success, in the contract's order."""
        return tuple(s for s in self.terminal if s != self.success)


@dataclass(frozen=True, slots=True)
class Operation:
    """One documented endpoint in one mode: the unit everything else iterates over."""

    id: str
    family: str
    vendor: str
    summary: str
    provenance: Provenance
    method: str
    path: str
    auth: tuple[str, ...]
    request: RequestSpec
    response: ResponseSpec
    errors: ErrorSpec
    cost: Cost
    source_file: str
    description: str = ""
    path_params: Mapping[str, JSON] = field(default_factory=dict)
    query: JSON | None = None
    match: tuple[Condition, ...] = ()
    priority: int = 0
    stream: StreamSpec | None = None
    task: TaskSpec | None = None
    invariants: tuple[str, ...] = ()
    errata: tuple[Erratum, ...] = ()

    @property
    def effective_match(self) -> tuple[Condition, ...]:
        """``match`` plus the stream condition the response mode implies.

        An operation without a stream answers only ``stream`` false or absent; one that always
        streams answers only ``stream: true``; one that streams on request takes either.
        """
        if any(c.field == "stream" for c in self.match):
            return self.match
        if self.stream is None:
            return (*self.match, Condition("stream", "equals", False))
        if self.stream.asked_by.location == "query":
            return self.match  # the body does not say: no stream condition on it
        if self.stream.when == "always":
            return (*self.match, Condition("stream", "equals", True))
        return self.match

    def wants_stream(self, body: Any, query: Mapping[str, str]) -> bool:
        """True when this request (its JSON body and query parameters) is answered with the
        stream: always for an always-streaming operation, else as the stream's flag says."""
        if self.stream is None:
            return False
        return self.stream.when == "always" or self.stream.asked_by.asked(body, query)

    @property
    def task_role(self) -> TaskRole | None:
        """The role of the operation's task block (submit, poll, list, cancel), None without one."""
        return self.task.role if self.task is not None else None

    @property
    def streams_always(self) -> bool:
        """True when every successful call answers with a stream."""
        return self.stream is not None and self.stream.when == "always"

    def example(self, name: str | None = None) -> Example | None:
        """The named response example, or the first one."""
        return _pick(self.response.examples, name)

    def stream_example(self, name: str | None = None) -> Example | None:
        """The named stream example, or the first one."""
        return _pick(self.stream.examples, name) if self.stream else None


def _same(sent: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool) and isinstance(sent, str):
        return sent.strip().lower() == str(wanted).lower()
    return bool(sent == wanted and type(sent) is type(wanted))


def _pick(examples: tuple[Example, ...], name: str | None) -> Example | None:
    servable = [e for e in examples if e.servable]
    if name is None:
        return servable[0] if servable else None
    return next((e for e in servable if e.name == name), None)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A provider's error style: its schema, body template and per-status defaults."""

    name: str
    schema: JSON
    body: JSON
    statuses: Mapping[int, Mapping[str, JSON]]


@dataclass(frozen=True, slots=True)
class ContractSet:
    """Every loaded operation, the shared schemas they reference, and the error envelopes."""

    operations: tuple[Operation, ...]
    components: Mapping[str, JSON]
    envelopes: Mapping[str, Envelope]
    prefix_aliases: tuple[PrefixAlias, ...] = ()
    _by_id: Mapping[str, Operation] = field(default_factory=dict, repr=False)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)

    def __len__(self) -> int:
        return len(self.operations)

    def get(self, op_id: str) -> Operation:
        """The operation with this id; KeyError names the id when there is none."""
        try:
            return self._by_id[op_id]
        except KeyError:
            raise KeyError(f"no operation with id {op_id!r}") from None

    def families(self) -> list[str]:
        """Family names in first-seen order."""
        return list(dict.fromkeys(op.family for op in self.operations))
