"""The `relaykit_mock` fixture as a client developer's pytest run gets it: installed by the
package's entry point, one mock per session reset per test, a mock of its own on request,
faults, pacing and the journal."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

CLIENT_TESTS = """
import httpx
import openai
import pytest

SEEN = []
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def post(mock, key="sk-a"):
    return httpx.post(f"{mock.url}/v1/chat/completions", json=CHAT,
                      headers={"Authorization": f"Bearer {key}"})


def test_one(relaykit_mock):
    SEEN.append(relaykit_mock.url)
    assert relaykit_mock.requests() == []
    post(relaykit_mock)
    assert [r["operation"] for r in relaykit_mock.requests()] == [
        "openai.chat.completions.nonstream"]


def test_two_shares_the_mock_with_a_clean_journal(relaykit_mock):
    assert SEEN == [relaykit_mock.url]
    assert relaykit_mock.requests() == []


def test_faults_and_pacing(relaykit_mock):
    relaykit_mock.fault("cut", after=1, operation="openai.chat.completions.stream")
    relaykit_mock.fault(503, path="/v1/embeddings", times=1)
    relaykit_mock.pace(ttfe_ms=5, interval_ms=2)
    assert (relaykit_mock.config.ttfe, relaykit_mock.config.interval) == (0.005, 0.002)
    client = openai.OpenAI(base_url=f"{relaykit_mock.url}/v1", api_key="sk-a", max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        list(client.chat.completions.create(stream=True, **CHAT))
    with pytest.raises(openai.InternalServerError):
        client.embeddings.create(model="text-embedding-3-small", input="x")
    client.embeddings.create(model="text-embedding-3-small", input="x")  # times=1
    assert [r["status"] for r in relaykit_mock.requests(path="/v1/embeddings")] == [503, 200]
    with pytest.raises(ValueError, match="after"):
        relaykit_mock.fault("cut", after=-1)


def test_the_next_test_gets_no_faults(relaykit_mock):
    assert relaykit_mock.config.ttfe == 0.0
    assert post(relaykit_mock).status_code == 200


@pytest.mark.relaykit_mock(api_keys=["sk-mine"], journal=2)
def test_a_mock_of_its_own(relaykit_mock):
    assert relaykit_mock.url != SEEN[0]
    assert post(relaykit_mock).status_code == 401
    for _ in range(3):
        post(relaykit_mock, key="sk-mine")
    assert [r["status"] for r in relaykit_mock.requests()] == [200, 200]


@pytest.mark.relaykit_mock(journal=0)
def test_no_journal(relaykit_mock):
    with pytest.raises(RuntimeError, match="journal is off"):
        relaykit_mock.requests()


@pytest.mark.relaykit_mock(no_such_setting=1)
def test_a_bad_setting_is_named(relaykit_mock):
    pass
"""


def test_the_fixture_is_installed_and_works_in_a_client_test_run(tmp_path: Path) -> None:
    plugins = {e.name: e.value for e in entry_points(group="pytest11")}
    assert plugins["relaykit-mock"] == "mockserver.pytest_plugin"
    (tmp_path / "test_client.py").write_text(CLIENT_TESTS, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=180,
    )
    out = result.stdout
    assert "6 passed" in out and "1 error" in out, out + result.stderr
    assert "@pytest.mark.relaykit_mock: " in out and "no_such_setting" in out
    assert "ERROR test_client.py::test_a_bad_setting_is_named" in out
