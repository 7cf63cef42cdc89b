"""The state store: one interface, two backends (SQLite in the state directory, a real Redis),
and two `relaykit serve` processes with their own state directories agreeing through Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
import redis

from mockserver.state import StateStore, StateUrlError, open_store, redact_url
from tests.redis_server import redis_server
from tests.serving import relaykit_serve

AUTH = {"Authorization": "Bearer sk-state-test"}


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "sqlite":
        yield open_store(state_dir=str(tmp_path))
        return
    url = request.getfixturevalue("redis_url") + "/3"
    redis.Redis.from_url(url).flushdb()
    opened = open_store(url)
    opened.check()
    yield opened
    opened.close()


def test_key_values_are_namespaced_json_and_expire(store: StateStore) -> None:
    assert store.get("facts", "t1") is None
    assert store.put("facts", "t1", {"prompt": "a fox", "size": [1024, 768]})
    assert store.put("other", "t1", "elsewhere")
    assert store.get("facts", "t1") == {"prompt": "a fox", "size": [1024, 768]}
    assert store.get("other", "t1") == "elsewhere"
    assert store.put("facts", "t1", {"prompt": "replaced"})
    assert store.get("facts", "t1") == {"prompt": "replaced"}
    assert store.delete("facts", "t1") and not store.delete("facts", "t1")
    assert store.get("facts", "t1") is None and store.get("other", "t1") == "elsewhere"
    assert store.put("brief", "k", 1, ttl=0.05)
    assert store.get("brief", "k") == 1
    time.sleep(0.12)
    assert store.get("brief", "k") is None
    assert store.add("brief", "k", 2) == 2  # an expired value does not hold the key


def test_add_keeps_the_first_value(store: StateStore) -> None:
    assert store.add("modal", "t", {"step": 1}) == {"step": 1}
    assert store.add("modal", "t", {"step": 2}) == {"step": 1}
    assert store.get("modal", "t") == {"step": 1}


def test_logs_are_ordered_bounded_and_cleared(store: StateStore) -> None:
    seqs = [store.append("journal", {"n": i}, keep=3) for i in range(5)]
    assert all(s is not None for s in seqs) and seqs == sorted(seqs)
    assert [e.value["n"] for e in store.tail("journal", 10)] == [2, 3, 4]
    assert [e.value["n"] for e in store.tail("journal", 2)] == [3, 4]
    assert store.tail("journal", 0) == [] and store.tail("other", 5) == []
    assert store.clear("journal") and store.tail("journal", 10) == []
    after = store.append("journal", {"n": 5}, keep=3)
    assert after is not None and seqs[-1] is not None and after > seqs[-1]  # never reused


def test_tasks_are_listed_newest_first_and_the_first_cancel_wins(store: StateStore) -> None:
    for i, task_id in enumerate(("a", "b", "c")):
        store.record_submit("mj.task.fetch", task_id, 1000 + i)
    store.record_submit("mj.task.fetch", "a", 9999)  # a second record is ignored
    store.record_submit("suno.fetch.single", "s", 5000)
    assert [s.task_id for s in store.submitted("mj.task.fetch")] == ["c", "b", "a"]
    assert [s.submitted_ms for s in store.submitted("mj.task.fetch", limit=2)] == [1002, 1001]
    assert store.record_cancel("b", 2000) == 2000 and store.record_cancel("b", 3000) == 2000
    assert store.cancelled_at("b") == 2000 and store.cancelled_at("a") is None


def test_an_unreachable_redis_degrades_and_check_says_why(tmp_path: Path) -> None:
    gone = open_store("redis://127.0.0.1:1/0")
    assert gone.get("k", "v") is None and not gone.put("k", "v", 1)
    assert gone.tail("journal", 5) == [] and gone.record_cancel("t", 1) is None
    with pytest.raises(StateUrlError, match=r"cannot reach Redis.*refused"):
        gone.check()
    with pytest.raises(StateUrlError, match="not a Redis URL"):
        open_store("postgres://somewhere/db")
    assert redact_url("redis://user:hunter2@host:6379/1") == "redis://user:***@host:6379/1"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:6379", "not a Redis URL"),
        ("redis://127.0.0.1:1/0", "cannot reach Redis"),
        ("redis://:hunter2@127.0.0.1:notaport/0", "--state-url"),
    ],
)
def test_serve_refuses_a_bad_state_url_in_one_line(url: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "relaykit", "serve", "--port", "1", "--state-url", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --state-url") and message in lines[0]
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr


def test_the_state_url_may_come_from_the_environment() -> None:
    env = {**os.environ, "RELAYKIT_STATE_URL": "memcached://127.0.0.1:11211"}
    result = subprocess.run(
        [sys.executable, "-m", "relaykit", "serve", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert (
        result.returncode == 2 and "memcached://127.0.0.1:11211: not a Redis URL" in result.stderr
    )


def test_two_mocks_with_their_own_state_dirs_agree_through_one_redis(redis_url: str) -> None:
    url = redis_url + "/5"
    redis.Redis.from_url(url).flushdb()
    with (
        relaykit_serve("--state-url", url, "--task-speed", "4") as one,
        relaykit_serve("--state-url", url, "--task-speed", "4") as two,
        httpx.Client(headers=AUTH, timeout=10) as c,
    ):
        ids = [
            c.post(f"{one}/mj/submit/imagine", json={"prompt": f"fox {i}"}).json()["result"]
            for i in range(2)
        ]
        listed = [t["id"] for t in c.get(f"{two}/mj/task/list").json()]
        assert listed[:2] == ids[::-1]  # submitted on one, listed by two, newest first
        # what the task was submitted with (task_facts) is known to two
        assert c.get(f"{two}/mj/task/{ids[1]}/fetch").json()["prompt"] == "fox 1"
        assert c.post(f"{two}/mj/task/{ids[0]}/cancel").json()["code"] == 1
        assert c.get(f"{one}/mj/task/{ids[0]}/fetch").json()["status"] == "CANCEL"
        assert ids[0] not in {t["id"] for t in c.get(f"{one}/mj/task/queue").json()}
        # one journal: what was sent to one is read from two, and cleared from either
        seen = c.get(f"{two}/_relaykit/requests", params={"operation": "mj.submit.imagine"})
        bodies = [e["body"] for e in seen.json()["data"]]
        assert bodies == [{"prompt": "fox 0"}, {"prompt": "fox 1"}]
        assert c.delete(f"{one}/_relaykit/requests").status_code == 200
        assert c.get(f"{two}/_relaykit/requests").json()["data"] == []
        # a Responses API response stored by one is retrieved and continued on two
        sdk_one, sdk_two = (
            openai.OpenAI(base_url=f"{base}/v1", api_key="sk-state-test", max_retries=0)
            for base in (one, two)
        )
        first = sdk_one.responses.create(model="gpt-4o-mini", input="Say hello.")
        assert sdk_two.responses.retrieve(first.id).id == first.id
        second = sdk_two.responses.create(
            model="gpt-4o-mini", input="Go on.", previous_response_id=first.id
        )
        assert second.previous_response_id == first.id


def test_merge_and_update_are_atomic_across_connections(
    store: StateStore, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    assert store.merge("facts", "t", {"prompt": "fox", "size": {"w": 1, "h": 2}}) == {
        "prompt": "fox",
        "size": {"w": 1, "h": 2},
    }
    merged = store.merge("facts", "t", {"size": {"h": 3}, "prompt": None, "tags": ["a"]})
    assert merged == {"size": {"w": 1, "h": 3}, "tags": ["a"]} == store.get("facts", "t")
    assert store.update("count", "n", lambda old: (old or 0) + 1) == 1
    # writers on connections of their own (other workers, other machines) lose nothing
    where = request.node.callspec.params["store"]
    url = request.getfixturevalue("redis_url") + "/3" if where == "redis" else ""
    writers = [open_store(url, str(tmp_path)) for _ in range(4)]

    def write(i: int) -> None:
        for j in range(25):
            writers[i].merge("facts", "shared", {f"w{i}-{j}": j})
            writers[i].update("count", "n", lambda old: (old or 0) + 1)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.get("facts", "shared")) == 100
    assert store.get("count", "n") == 101
    for writer in writers:
        writer.close()
