"""A malformed contract fails at load time, naming the file, the field and the fault."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from contracts.loader import ContractError, load_contracts

GOOD = {
    "id": "demo.ping",
    "family": "demo",
    "vendor": "openai",
    "summary": "Ping",
    "provenance": {"seeds": [], "path_source": "relaykit test", "path_confidence": "low"},
    "method": "POST",
    "path": "/v1/ping",
    "auth": ["bearer"],
    "request": {
        "content_type": "application/json",
        "schema": {
            "type": "object",
            "required": ["model"],
            "properties": {"model": {"type": "string"}},
        },
        "examples": [{"name": "ok", "value": {"model": "m"}}],
    },
    "response": {
        "status": 200,
        "schema": {"$ref": "#/components/schemas/ModelList"},
        "examples": [{"name": "ok", "value": {"object": "list", "data": []}}],
    },
    "errors": {"envelope": "openai"},
    "cost": {"paid": False, "unit": "none"},
}


def write(tmp: Path, name: str, data: dict) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def problems(tmp: Path) -> list[str]:
    with pytest.raises(ContractError) as info:
        load_contracts([tmp])
    return info.value.problems


def test_a_good_contract_loads(tmp_path: Path) -> None:
    write(tmp_path, "demo.ping", GOOD)
    cs = load_contracts([tmp_path])
    assert [op.id for op in cs] == ["demo.ping"]
    assert cs.get("demo.ping").example().value == {"object": "list", "data": []}


def test_missing_key_names_file_and_field(tmp_path: Path) -> None:
    data = {k: v for k, v in GOOD.items() if k != "method"}
    path = write(tmp_path, "demo.ping", data)
    (line,) = problems(tmp_path)
    assert str(path) in line and "'method' is a required property" in line


def test_missing_nested_key_gives_its_path(tmp_path: Path) -> None:
    data = {**GOOD, "cost": {"paid": True}}
    write(tmp_path, "demo.ping", data)
    (line,) = problems(tmp_path)
    assert ": cost: 'unit' is a required property" in line


def test_bad_ref_names_the_ref_and_where_it_is(tmp_path: Path) -> None:
    data = {
        **GOOD,
        "response": {**GOOD["response"], "schema": {"$ref": "#/components/schemas/Nope"}},
    }
    write(tmp_path, "demo.ping", data)
    (line,) = problems(tmp_path)
    assert "response.schema.$ref: unknown $ref '#/components/schemas/Nope'" in line


def test_example_that_breaks_its_own_schema(tmp_path: Path) -> None:
    request = {**GOOD["request"], "examples": [{"name": "bad", "value": {"model": 3}}]}
    write(tmp_path, "demo.ping", {**GOOD, "request": request})
    (line,) = problems(tmp_path)
    assert "request.examples[0] (bad): example does not match its schema at model" in line


def test_stream_event_that_breaks_the_event_schema(tmp_path: Path) -> None:
    stream = {
        "framing": "sse-data",
        "when": "always",
        "terminator": "[DONE]",
        "event_schema": {"$ref": "#/components/schemas/ChatCompletionChunk"},
        "examples": [{"name": "s", "events": [{"object": "chat.completion.chunk"}]}],
    }
    write(tmp_path, "demo.ping", {**GOOD, "stream": stream})
    lines = problems(tmp_path)
    assert any("stream.examples[0].events[0] (s)" in line for line in lines)


def test_duplicate_id(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "a", "demo.ping", GOOD)
    write(tmp_path / "b", "demo.ping", {**GOOD, "path": "/v1/other"})
    (line,) = problems(tmp_path)
    assert "duplicate id 'demo.ping'" in line and "/a/" in line and "/b/" in line


def test_two_operations_nothing_tells_apart(tmp_path: Path) -> None:
    write(tmp_path, "demo.ping", GOOD)
    write(tmp_path, "demo.pong", {**GOOD, "id": "demo.pong"})
    (line,) = problems(tmp_path)
    assert "nothing tells them apart" in line and "POST /v1/ping" in line


def test_a_match_condition_tells_them_apart(tmp_path: Path) -> None:
    write(tmp_path, "demo.ping", GOOD)
    write(tmp_path, "demo.pong", {**GOOD, "id": "demo.pong", "match": {"model": {"glob": "x-*"}}})
    assert len(load_contracts([tmp_path])) == 2


def test_id_must_match_file_name(tmp_path: Path) -> None:
    write(tmp_path, "other", GOOD)
    (line,) = problems(tmp_path)
    assert "id: 'demo.ping' must match the file name 'other'" in line


def test_unknown_envelope(tmp_path: Path) -> None:
    write(tmp_path, "demo.ping", {**GOOD, "errors": {"envelope": "nope"}})
    (line,) = problems(tmp_path)
    assert "errors.envelope: unknown envelope 'nope'" in line


def test_erratum_example_must_cite_a_listed_erratum(tmp_path: Path) -> None:
    response = {**GOOD["response"], "examples": [{"name": "seed", "erratum": "E14", "value": {}}]}
    write(tmp_path, "demo.ping", {**GOOD, "response": response})
    (line,) = problems(tmp_path)
    assert "'E14' is not listed in errata" in line


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "demo.ping.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    (line,) = problems(tmp_path)
    assert "demo.ping.yaml: not valid YAML" in line


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, "demo.ping", {**GOOD, "errors": {"envelope": "nope"}})
    write(tmp_path, "demo.pong", {**GOOD, "id": "demo.pong", "method": "FETCH"})
    assert len(problems(tmp_path)) == 2


def test_validator_cache_is_bounded() -> None:
    from contracts.validation import Validators

    v = Validators({}, cache_size=3)
    for n in range(10):
        assert v.is_valid({"type": "integer", "minimum": n}, 100)
    assert len(v._cache) == 3


POLL_TASK = {
    "role": "poll",
    "id_param": "id",
    "status_field": "status",
    "states": ["queued", "running", "done", "failed"],
    "initial": ["queued"],
    "terminal": ["done", "failed"],
    "success": "done",
    "transitions": {"queued": ["running"], "running": ["done", "failed"]},
    "timeline": [{"after": 0, "state": "queued"}, {"after": 2, "state": "done", "progress": 1}],
}


def _task_op(op_id: str, path: str, render: str, task: dict) -> dict:
    op = {**GOOD, "id": op_id, "path": path, "task": task}
    return {**op, "response": {**GOOD["response"], "render": render}}


def test_the_task_block_loads_typed_with_its_defaults(tmp_path: Path) -> None:
    poll_task = {**POLL_TASK, "id_param": "task_id"}
    write(tmp_path, "demo.poll", _task_op("demo.poll", "/v1/poll", "task.poll", poll_task))
    submit = {"role": "submit", "poll": "demo.poll"}
    write(tmp_path, "demo.submit", _task_op("demo.submit", "/v1/submit", "task.submit", submit))
    cancel = {"role": "cancel", "poll": "demo.poll"}
    write(tmp_path, "demo.cancel", _task_op("demo.cancel", "/v1/cancel", "task.cancel", cancel))
    cs = load_contracts([tmp_path])
    poll = cs.get("demo.poll").task
    assert poll is not None and poll.failures == ("failed",)
    assert [(s.after, s.state, s.has_progress) for s in poll.timeline] == [
        (0.0, "queued", False),
        (2.0, "done", True),
    ]
    assert poll.transitions["running"] == ("done", "failed")
    sub = cs.get("demo.submit").task
    assert sub is not None and sub.role == cs.get("demo.submit").task_role == "submit"
    assert (sub.id_field, sub.status_field, sub.callback_field) == ("id", "status", None)
    stop = cs.get("demo.cancel").task
    assert stop is not None and stop.id_param == "task_id"  # a cancel without one: the poll's


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"success": "nope"}, "task.success: 'nope' is not one of task.terminal"),
        ({"terminal": ["done", "lost"]}, "task.terminal: 'lost' not in task.states"),
        (
            {"transitions": {"queued": ["gone"]}},
            "task.transitions.queued: 'gone' not in task.states",
        ),
        (
            {"timeline": [{"after": 3, "state": "queued"}, {"after": 1, "state": "done"}]},
            "task.timeline: the steps' 'after' must not decrease",
        ),
        (
            {"timeline": [{"after": 0, "state": "paused"}]},
            "task.timeline: 'paused' not in task.states",
        ),
        ({"states": None}, "task.states: a poll needs it"),
        (
            {"role": "submit"},
            "task.role: response.render task.poll needs a task block of role poll",
        ),
    ],
)
def test_a_broken_task_block_names_the_field(tmp_path: Path, change: dict, expected: str) -> None:
    task = {k: v for k, v in {**POLL_TASK, **change}.items() if v is not None}
    path = write(tmp_path, "demo.poll", _task_op("demo.poll", "/v1/poll", "task.poll", task))
    assert f"{path}: {expected}" in problems(tmp_path)


def test_a_submit_must_name_a_poll_that_is_one(tmp_path: Path) -> None:
    write(tmp_path, "demo.ping", GOOD)
    bad = {"role": "submit", "poll": "demo.ping"}
    path = write(tmp_path, "demo.submit", _task_op("demo.submit", "/v1/s", "task.submit", bad))
    found = problems(tmp_path)
    assert f"{path}: task.poll: 'demo.ping' is not a poll (its task.role must be poll)" in found
    write(
        tmp_path,
        "demo.submit",
        _task_op("demo.submit", "/v1/s", "task.submit", {"role": "submit", "poll": "demo.nope"}),
    )
    assert f"{path}: task.poll: unknown operation 'demo.nope'" in problems(tmp_path)
    write(
        tmp_path, "demo.submit", _task_op("demo.submit", "/v1/s", "task.submit", {"role": "submit"})
    )
    assert f"{path}: task.poll: a submit must name its poll" in problems(tmp_path)


def test_what_a_submit_remembers_loads_typed(tmp_path: Path) -> None:
    write(tmp_path, "demo.poll", _task_op("demo.poll", "/v1/poll", "task.poll", POLL_TASK))
    submit = {
        "role": "submit",
        "poll": "demo.poll",
        "remember": {"prompt": ["prompt", "meta.prompt"], "hook": "hook"},
        "given_only": ["hook"],
        "result_size": {"width": "w", "height": "h"},
        "parent": {"field": "taskId", "state": "done", "unknown": 400},
        "branches": [{"when": {"kind": {"glob": "zoom*"}}, "waits": "running"}],
    }
    write(tmp_path, "demo.submit", _task_op("demo.submit", "/v1/submit", "task.submit", submit))
    task = load_contracts([tmp_path]).get("demo.submit").task
    assert task is not None and task.remember == {
        "prompt": ("prompt", "meta.prompt"),
        "hook": ("hook",),
    }
    assert task.given_only == ("hook",) and task.result_size == ("w", "h")
    assert task.parent is not None and (task.parent.field, task.parent.unknown) == ("taskId", 400)
    (branch,) = task.branches
    assert branch.waits == "running" and branch.when[0].op == "glob"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"parent": {"field": "t", "state": "lost"}},
         "task.parent.state: 'lost' is not a state of demo.poll"),
        ({"parent": {"field": "t", "unknown": "nope"}},
         "task.parent.unknown: no response example named 'nope'"),
        ({"parent": {"field": "t", "choice": "c"}}, "task.parent: choice and among go together"),
        ({"branches": [{"when": {"k": 1}, "waits": "done"}]},
         "task.branches[0].waits: 'done' is a terminal state of demo.poll"),
        ({"branches": [{"when": {"k": 1}, "ends_as": "x"}]},
         "task.branches[0].ends_as: demo.poll has no example 'x'"),
        ({"given_only": ["hook"]}, "task.given_only: hook not in task.remember"),
        ({"fresh_ids": ["a.id"]}, "task.fresh_ids: only a poll has it"),
    ],
)  # fmt: skip
def test_a_broken_memory_names_the_field(tmp_path: Path, change: dict, expected: str) -> None:
    write(tmp_path, "demo.poll", _task_op("demo.poll", "/v1/poll", "task.poll", POLL_TASK))
    submit = {"role": "submit", "poll": "demo.poll", **change}
    path = write(tmp_path, "demo.submit", _task_op("demo.submit", "/v1/s", "task.submit", submit))
    assert f"{path}: {expected}" in problems(tmp_path)
