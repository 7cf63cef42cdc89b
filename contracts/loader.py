"""Load contract YAML files, validate them, and build a ContractSet.

A bad contract fails here, at load time, with the file, the field path and what was expected;
nothing downstream has to cope with a half-valid contract.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import yaml

from contracts.model import (
    Condition,
    ContractSet,
    Cost,
    DocumentedError,
    Envelope,
    Erratum,
    ErrorSpec,
    Example,
    Operation,
    ParentSpec,
    Provenance,
    RequestSpec,
    ResponseSpec,
    SeedRef,
    StreamFlag,
    StreamSpec,
    TaskBranch,
    TaskSpec,
    TimelineStep,
)
from contracts.paths import PrefixAlias
from contracts.validation import REF_PREFIX, Validators, format_path, iter_refs

HERE = Path(__file__).resolve().parent
OPERATIONS_DIR = HERE / "operations"
SCHEMAS_DIR = HERE / "schemas"
ENVELOPES_FILE = HERE / "envelopes.yaml"
META_SCHEMA_FILE = HERE / "contract.schema.yaml"
PREFIXES_FILE = HERE / "prefixes.yaml"
# libyaml's parser when PyYAML has it (the same safe constructor, several times faster).
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ContractError(Exception):
    """One or more contracts are malformed; each line names the file, the field and the fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise ContractError([f"{path}: not valid YAML: {exc}"]) from None
    except OSError as exc:
        raise ContractError([f"{path}: cannot read: {exc.strerror}"]) from None


@functools.cache
def _meta_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(_read_yaml(META_SCHEMA_FILE))


@functools.cache
def _fast_meta_validator() -> Any:
    return jsonschema_rs.Draft202012Validator(_read_yaml(META_SCHEMA_FILE))


def load_components(schema_dir: Path = SCHEMAS_DIR) -> dict[str, Any]:
    """The shared schemas: every top-level key of every YAML file in ``schema_dir``."""
    components: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    problems: list[str] = []
    for path in sorted(schema_dir.glob("*.yaml")):
        data = _read_yaml(path) or {}
        if not isinstance(data, dict):
            problems.append(f"{path}: expected a mapping of schema names to schemas")
            continue
        for name, schema in data.items():
            if name in components:
                problems.append(f"{path}: {name}: shared schema already defined in {origin[name]}")
            components[name] = schema
            origin[name] = path
    if problems:
        raise ContractError(problems)
    return components


def load_envelopes(path: Path = ENVELOPES_FILE) -> dict[str, Envelope]:
    """The error envelopes by name."""
    data = _read_yaml(path) or {}
    return {
        name: Envelope(
            name=name,
            schema=spec["schema"],
            body=spec["body"],
            statuses={int(k): v for k, v in spec.get("statuses", {}).items()},
        )
        for name, spec in data.items()
    }


def load_prefix_aliases(path: Path = PREFIXES_FILE) -> tuple[PrefixAlias, ...]:
    """The path prefixes relays use in front of documented paths."""
    data = _read_yaml(path) or []
    try:
        return tuple(PrefixAlias(**item) for item in data)
    except TypeError as exc:
        raise ContractError([f"{path}: expected items of alias, target, meaning: {exc}"]) from None


def contract_files(dirs: Iterable[Path]) -> list[Path]:
    """Every ``*.yaml`` below the given directories, sorted for a stable load order."""
    files: list[Path] = []
    for d in dirs:
        files.extend(sorted(Path(d).rglob("*.yaml")))
    return files


def load_contracts(dirs: Iterable[Path] | None = None) -> ContractSet:
    """Load and check every contract; raise ContractError listing every problem found."""
    components = load_components()
    envelopes = load_envelopes()
    validators = Validators(components)
    problems: list[str] = []
    operations: list[Operation] = []
    for path in contract_files(dirs if dirs is not None else [OPERATIONS_DIR]):
        try:
            op = _load_one(path, components, envelopes, validators)
        except ContractError as exc:
            problems.extend(exc.problems)
            continue
        operations.append(op)
    problems.extend(_cross_checks(operations))
    if problems:
        raise ContractError(problems)
    operations = _inherit_task_fields(operations)
    return ContractSet(
        operations=tuple(operations),
        components=components,
        envelopes=envelopes,
        prefix_aliases=load_prefix_aliases(),
        _by_id={op.id: op for op in operations},
    )


@functools.cache
def default_contracts() -> ContractSet:
    """The contracts shipped with relaykit, loaded once per process."""
    return load_contracts()


def _load_one(
    path: Path,
    components: Mapping[str, Any],
    envelopes: Mapping[str, Envelope],
    validators: Validators,
) -> Operation:
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise ContractError([f"{path}: <root>: expected a mapping, got {type(raw).__name__}"])
    meta_errors = (
        []  # the compiled validator says yes fast; jsonschema says precisely why not
        if _fast_meta_validator().is_valid(raw)
        else sorted(_meta_validator().iter_errors(raw), key=lambda e: list(e.absolute_path))
    )
    if meta_errors:
        raise ContractError(
            [f"{path}: {format_path(list(e.absolute_path))}: {e.message}" for e in meta_errors]
        )
    problems: list[str] = []
    if path.stem != raw["id"]:
        problems.append(f"{path}: id: {raw['id']!r} must match the file name {path.stem!r}")
    for ref_path, ref in iter_refs(raw):
        name = ref[len(REF_PREFIX) :] if ref.startswith(REF_PREFIX) else None
        if name is None or name not in components:
            problems.append(
                f"{path}: {format_path(ref_path)}: unknown $ref {ref!r} "
                f"(expected {REF_PREFIX}<Name>, one of: {', '.join(sorted(components))})"
            )
    envelope_name = raw["errors"]["envelope"]
    if envelope_name not in envelopes:
        problems.append(
            f"{path}: errors.envelope: unknown envelope {envelope_name!r} "
            f"(known: {', '.join(sorted(envelopes))})"
        )
    if problems:
        raise ContractError(problems)
    op = _build(path, raw)
    problems.extend(_check_task(path, op.response.render, op.task))
    problems.extend(_check_examples(path, op, envelopes, validators))
    if problems:
        raise ContractError(problems)
    return op


def _examples(items: list[dict[str, Any]] | None, key: str = "value") -> tuple[Example, ...]:
    return tuple(
        Example(
            name=e["name"],
            value=e[key],
            source=e.get("source", ""),
            summary=e.get("summary", ""),
            erratum=e.get("erratum", ""),
            query={str(k): str(v) for k, v in (e.get("query") or {}).items()},
        )
        for e in items or []
    )


def _conditions(match: Mapping[str, Any]) -> tuple[Condition, ...]:
    out = []
    for field_path, cond in match.items():
        if isinstance(cond, dict):
            ((op, value),) = cond.items()
            out.append(Condition(field_path, op, value))
        else:
            out.append(Condition(field_path, "equals", cond))
    return tuple(out)


def _build(path: Path, raw: dict[str, Any]) -> Operation:
    prov = raw["provenance"]
    req = raw["request"]
    resp = raw["response"]
    stream = raw.get("stream")
    errors = raw["errors"]
    return Operation(
        id=raw["id"],
        family=raw["family"],
        vendor=raw["vendor"],
        summary=raw["summary"],
        description=raw.get("description", ""),
        provenance=Provenance(
            seeds=tuple(SeedRef(**s) for s in prov["seeds"]),
            path_source=prov["path_source"],
            path_confidence=prov["path_confidence"],
            implied=prov.get("implied", False),
            reference=prov.get("reference", ""),
            not_enabled=prov.get("not_enabled", False),
            notes=prov.get("notes", ""),
            source=prov.get("source", ""),
        ),
        method=raw["method"],
        path=raw["path"],
        path_params=raw.get("path_params", {}),
        query=raw.get("query"),
        auth=tuple(raw["auth"]),
        match=_conditions(raw.get("match", {})),
        priority=raw.get("priority", 0),
        request=RequestSpec(
            content_type=req["content_type"],
            schema=req.get("schema"),
            examples=_examples(req.get("examples")),
        ),
        response=ResponseSpec(
            status=resp["status"],
            content_type=resp.get("content_type", "application/json"),
            schema=resp.get("schema"),
            examples=_examples(resp.get("examples")),
            render=resp.get("render", "static"),
            alternatives=tuple(resp.get("alternatives", ())),
        ),
        stream=StreamSpec(
            framing=stream["framing"],
            when=stream.get("when", "requested"),
            event_schema=stream.get("event_schema"),
            events=stream.get("events", {}),
            terminator=stream.get("terminator"),
            examples=_examples(stream["examples"], key="events"),
            render=stream.get("render", "static"),
            asked_by=_stream_flag(stream.get("asked_by")),
            grammar=stream.get("grammar")
            or ("anthropic" if stream["framing"] == "sse-named" else "openai"),
        )
        if stream
        else None,
        errors=ErrorSpec(
            envelope=errors["envelope"],
            documented=tuple(DocumentedError(**d) for d in errors.get("documented", [])),
        ),
        task=task_spec(raw["task"]) if raw.get("task") else None,
        invariants=tuple(raw.get("invariants", [])),
        cost=Cost(**raw["cost"]),
        errata=tuple(Erratum(**e) for e in raw.get("errata", [])),
        source_file=str(path),
    )


def _stream_flag(raw: Mapping[str, Any] | None) -> StreamFlag:
    """``stream.asked_by`` (``{query: alt, value: sse}``), the body's ``stream: true`` when
    absent."""
    if not raw:
        return StreamFlag()
    if "query" in raw:
        return StreamFlag("query", str(raw["query"]), str(raw["value"]))
    return StreamFlag("body", str(raw["body"]), raw["value"])


def task_spec(raw: Mapping[str, Any]) -> TaskSpec:
    """A contract's ``task`` block (already meta-validated) as a TaskSpec, defaults filled; a
    cancel without ``id_param`` gets its poll's later in the load (``''`` until then)."""
    role = raw["role"]
    timeline = tuple(
        TimelineStep(float(s["after"]), s["state"], s.get("progress"), "progress" in s)
        for s in raw.get("timeline") or ()
    )
    if role == "poll" and not timeline and raw.get("success") is not None:
        timeline = (TimelineStep(0.0, raw["success"]),)  # no timeline: successful at once
    return TaskSpec(
        role=role,
        poll=raw.get("poll"),
        id_field=raw.get("id_field", "id"),
        id_param=raw.get("id_param") or ("" if role == "cancel" else "id"),
        callback_field=raw.get("callback_field"),
        status_field=raw.get("status_field", "status"),
        states=tuple(raw.get("states", ())),
        initial=tuple(raw.get("initial", ())),
        terminal=tuple(raw.get("terminal", ())),
        success=raw.get("success"),
        transitions={k: tuple(v) for k, v in (raw.get("transitions") or {}).items()},
        progress_field=raw.get("progress_field"),
        progress_format=raw.get("progress_format"),
        result_urls=tuple(raw.get("result_urls", ())),
        timeline=timeline,
        remember={
            k: (v,) if isinstance(v, str) else tuple(v)
            for k, v in (raw.get("remember") or {}).items()
        },
        given_only=tuple(raw.get("given_only", ())),
        result_size=(
            (raw["result_size"]["width"], raw["result_size"]["height"])
            if raw.get("result_size")
            else None
        ),
        parent=ParentSpec(**raw["parent"]) if raw.get("parent") else None,
        branches=tuple(
            TaskBranch(
                when=_conditions(b["when"]),
                answer=b.get("answer"),
                waits=b.get("waits"),
                ends_as=b.get("ends_as"),
            )
            for b in raw.get("branches") or ()
        ),
        submit_time=tuple(raw.get("submit_time", ())),
        fresh_ids=tuple(raw.get("fresh_ids", ())),
    )


_SUBMIT_ONLY = ("remember", "given_only", "result_size", "parent", "branches")
_POLL_ONLY = ("submit_time", "fresh_ids")


def _check_task(path: Path, render: str, task: TaskSpec | None) -> list[str]:
    """A task renderer has the task block of its role; a poll's state machine holds together;
    the other roles name their poll."""
    role = render.removeprefix("task.") if render.startswith("task.") else None
    if role is not None and (task is None or task.role != role):
        return [f"{path}: task.role: response.render {render} needs a task block of role {role}"]
    if task is None:
        return []
    misplaced = [
        f"{path}: task.{name}: only a {role_of} has it"
        for names, role_of in ((_SUBMIT_ONLY, "submit"), (_POLL_ONLY, "poll"))
        for name in names
        if task.role != role_of and getattr(task, name)
    ]
    stray = [f for f in task.given_only if f not in task.remember]
    if stray:
        misplaced.append(f"{path}: task.given_only: {', '.join(stray)} not in task.remember")
    if misplaced:
        return misplaced
    if task.role != "poll":
        return [] if task.poll else [f"{path}: task.poll: a {task.role} must name its poll"]
    problems = [
        f"{path}: task.{name}: a poll needs it"
        for name in ("states", "terminal", "success")
        if not getattr(task, name)
    ]
    if problems:
        return problems
    known = set(task.states)

    def unknown(where: str, values: Iterable[str]) -> None:
        stray = [v for v in values if v not in known]
        if stray:
            problems.append(
                f"{path}: task.{where}: {', '.join(map(repr, stray))} not in task.states"
            )

    unknown("terminal", task.terminal)
    unknown("initial", task.initial)
    if task.success not in task.terminal:
        problems.append(f"{path}: task.success: {task.success!r} is not one of task.terminal")
    unknown("transitions", task.transitions)
    for state, targets in task.transitions.items():
        unknown(f"transitions.{state}", targets)
    unknown("timeline", (step.state for step in task.timeline))
    afters = [step.after for step in task.timeline]
    if afters != sorted(afters):
        problems.append(f"{path}: task.timeline: the steps' 'after' must not decrease")
    return problems


def _inherit_task_fields(operations: list[Operation]) -> list[Operation]:
    """A cancel without its own ``id_param`` uses its poll's (checked to exist)."""
    by_id = {op.id: op for op in operations}
    out = []
    for op in operations:
        task = op.task
        if task is not None and not task.id_param and task.poll in by_id:
            poll = by_id[task.poll].task
            assert poll is not None
            op = replace(op, task=replace(task, id_param=poll.id_param))
        out.append(op)
    return out


def _check_examples(
    path: Path, op: Operation, envelopes: Mapping[str, Envelope], validators: Validators
) -> list[str]:
    problems: list[str] = []

    errata = {e.ref for e in op.errata}

    def check(schema: Any, value: Any, where: str, erratum: str = "") -> None:
        if erratum:
            if erratum not in errata:
                problems.append(f"{path}: {where}.erratum: {erratum!r} is not listed in errata")
            return
        if schema is None:
            return
        for p in validators.problems(schema, value, limit=3):
            problems.append(f"{path}: {where}: example does not match its schema at {p}")

    if op.request.content_type == "application/json":
        for i, ex in enumerate(op.request.examples):
            check(op.request.schema, ex.value, f"request.examples[{i}] ({ex.name})", ex.erratum)
    for i, ex in enumerate(op.response.examples):
        check(op.response.schema, ex.value, f"response.examples[{i}] ({ex.name})", ex.erratum)
    if op.stream is not None:
        for i, ex in enumerate(op.stream.examples):
            if ex.erratum:
                check(None, None, f"stream.examples[{i}]", ex.erratum)
                continue
            for j, event in enumerate(ex.value):
                where = f"stream.examples[{i}].events[{j}] ({ex.name})"
                if op.stream.framing == "sse-data":
                    check(op.stream.event_schema, event, where)
                elif not isinstance(event, dict) or "event" not in event or "data" not in event:
                    problems.append(f"{path}: {where}: a named event needs 'event' and 'data'")
                elif event["event"] not in op.stream.events:
                    problems.append(
                        f"{path}: {where}: event {event['event']!r} is not declared "
                        "in stream.events"
                    )
                else:
                    check(op.stream.events[event["event"]], event["data"], where)
    envelope = envelopes[op.errors.envelope]
    for i, err in enumerate(op.errors.documented):
        if err.example is not None:
            check(envelope.schema, err.example, f"errors.documented[{i}].example")
    return problems


def _cross_checks(operations: list[Operation]) -> list[str]:
    problems: list[str] = []
    seen: dict[str, Operation] = {}
    routes: dict[tuple[str, str], list[Operation]] = {}
    for op in operations:
        if op.id in seen:
            problems.append(
                f"{op.source_file}: id: duplicate id {op.id!r}, also in {seen[op.id].source_file}"
            )
        seen[op.id] = op
        routes.setdefault((op.method, op.path), []).append(op)
    for op in operations:
        named = op.task.poll if op.task is not None and op.task.role != "poll" else None
        if named is None:
            continue
        target = seen.get(named)
        if target is None:
            problems.append(f"{op.source_file}: task.poll: unknown operation {named!r}")
        elif target.task is None or target.task.role != "poll":
            problems.append(
                f"{op.source_file}: task.poll: {named!r} is not a poll (its task.role must be poll)"
            )
        else:
            problems.extend(_check_submit_task(op, target))
    for (method, route), ops in routes.items():
        keys: dict[tuple[frozenset[str], int], Operation] = {}
        for op in ops:
            key = (frozenset(c.describe() for c in op.effective_match), op.priority)
            if key in keys:
                other = keys[key]
                problems.append(
                    f"{op.source_file}: match: {op.id!r} and {other.id!r} ({other.source_file}) "
                    f"share {method} {route} and nothing tells them apart; "
                    "add a match condition or a priority"
                )
            keys[key] = op
    return problems


def _check_submit_task(op: Operation, poll: Operation) -> list[str]:
    """A submit's parent and branches name states of its poll, examples the submit or the poll
    has, and statuses in the error range."""
    task, polled = op.task, poll.task
    assert task is not None and polled is not None
    where = f"{op.source_file}: task"
    names = {e.name for e in op.response.examples}
    poll_names = {e.name for e in poll.response.examples}
    problems: list[str] = []

    def state(at: str, value: str | None, running: bool = False) -> None:
        if value is None:
            return
        if value not in polled.states:
            problems.append(f"{where}.{at}: {value!r} is not a state of {poll.id}")
        elif running and value in polled.terminal:
            problems.append(f"{where}.{at}: {value!r} is a terminal state of {poll.id}")

    def answer(at: str, value: object) -> None:
        if isinstance(value, str) and value not in names:
            problems.append(f"{where}.{at}: no response example named {value!r}")

    parent = task.parent
    if parent is not None:
        state("parent.state", parent.state)
        for at in ("unknown", "wrong_state", "bad_choice"):
            answer(f"parent.{at}", getattr(parent, at))
        if (parent.choice is None) != (parent.among is None):
            problems.append(f"{where}.parent: choice and among go together")
    for i, branch in enumerate(task.branches):
        answer(f"branches[{i}].answer", branch.answer)
        state(f"branches[{i}].waits", branch.waits, running=True)
        if branch.ends_as is not None and branch.ends_as not in poll_names:
            problems.append(
                f"{where}.branches[{i}].ends_as: {poll.id} has no example {branch.ends_as!r}"
            )
    return problems
