"""`relaykit check` against a real third-party relay: LiteLLM's proxy in front of the mock.

LiteLLM offers a dozen models and only the OpenAI-style routes. Every failure the run reports
must be one of LiteLLM's own deviations, named below with the evidence that shows it; routes
and models it does not offer are skips, never failures. Nobody here wrote LiteLLM, so this is
the check meeting a relay it was not built against.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serving import free_port, relaykit_serve, stop

MASTER_KEY = "sk-litellm-master-4711"
MODELS = {
    "gpt-4o": "openai/gpt-4o",
    "gpt-4o-mini": "openai/gpt-4o-mini",
    "gpt-3.5-turbo": "openai/gpt-3.5-turbo",
    "text-embedding-3-small": "openai/text-embedding-3-small",
    "text-embedding-ada-002": "openai/text-embedding-ada-002",
    "dall-e-3": "openai/dall-e-3",
    "tts-1": "openai/tts-1",
    "whisper-1": "openai/whisper-1",
    "gpt-3.5-turbo-instruct": "text-completion-openai/gpt-3.5-turbo-instruct",
}
"""The relay's models (its names; the upstream is the mock)."""

DEVIATIONS = {
    "auth.no_key": (
        r"no key presented: answered 500",
        "a request without a key gets 500 Internal Server Error (text), not 401",
    ),
    "auth.wrong_key": (
        r"a key the relay cannot know: answered 400",
        "an unknown key gets 400, not 401: clients cannot tell a bad key from a bad request",
    ),
    "errors.envelope": (
        r"the 500 body is not JSON|the 422 body breaks the openai envelope"
        r"|the 400 body breaks the google envelope at error\.status"
        r"|the 400 body breaks the anthropic envelope",
        "the keyless 500 is plain text; a malformed upload gets FastAPI's 422 {detail: ...}; "
        "its Gemini routes answer {error: {code, message}} without Google's status; "
        "its own 400s on /v1/messages are in the OpenAI envelope",
    ),
    "negative.missing_required": (
        r"without 'contents': answered 200",
        "its own Gemini countTokens counts a body without contents (200) instead of refusing it",
    ),
    "negative.wrong_type": (
        r"answered 500, expected a 4xx",
        "speech with 'model' sent as an object gets 500 instead of 400",
    ),
    "sse.usage_chunk": (
        r"the usage chunk must have choices: \[\]",
        "the include_usage chunk repeats an empty choice instead of choices: []",
    ),
    "sse.finish_reason": (
        r"deltas continue after its finish_reason",
        "the same usage chunk, seen as a delta after finish_reason (its consequence)",
    ),
    "sse.event_schema": (
        r'"finish_reason" is a required property',
        "legacy completion stream chunks leave out finish_reason instead of null",
    ),
    "schemathesis": (
        r"answered 404: Response violates schema \(\"error\" is a required property\)"
        r"|answered 500: Server error",
        "an unknown model id on GET /v1/models/{model} gets 404 {detail: ...}, not the envelope; "
        "its own /v1/moderations and /v1/videos routes answer 500 (below)",
    ),
    "response.status": (
        r"answered 500, the contract says 200: Missing credentials"
        r"|UnsupportedParamsError: .* doesn't support `reasoning\.effort`",
        "/v1/moderations is not relayed to the configured upstream: LiteLLM calls OpenAI itself "
        "with no key and answers 500; Anthropic's thinking on /v1/messages becomes "
        "reasoning.effort, which it refuses (400) for a model its cost map does not mark as "
        "reasoning",
    ),
    "sse.streamed": (
        r"events arrived within .* \(one burst\)",
        "seen only on a loaded machine: a whole stream handed on in one piece (it deviates, so "
        "it never fails the run)",
    ),
    "sse.framing": (
        r"has no event: name",
        "Responses API streams come as data-only events (the type only in the data)",
    ),
    "sse.terminator": (
        r"data: \[DONE\] after response\.",
        "Responses API streams end with a data: [DONE] after the terminal event",
    ),
    "response.schema": (
        r"\bnull\b|the list answered HTTP 400",
        "explicit nulls for optional fields (usage in transcriptions, background in images); "
        "GET /v1/videos (its own video route, not relayed) answers 400",
    ),
}
"""LiteLLM's deviations from the contracts: check id -> (message pattern, what it is)."""


@pytest.fixture(scope="module")
def litellm_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """LiteLLM's proxy (no database, a master key) relaying to a real `relaykit serve`."""
    # streams paced 80 ms an event: a relay that passes them through cannot look like a burst
    with relaykit_serve("--api-key", "sk-upstream", "--interval-ms", "80") as upstream:
        work = tmp_path_factory.mktemp("litellm")
        config = {
            "model_list": [
                {
                    "model_name": name,
                    "litellm_params": {
                        "model": model,
                        "api_base": f"{upstream}/v1",
                        "api_key": "sk-upstream",
                    },
                }
                for name, model in MODELS.items()
            ],
            "general_settings": {"master_key": MASTER_KEY},
        }
        (work / "config.yaml").write_text(json.dumps(config), encoding="utf-8")
        port = free_port()
        env = {
            **os.environ,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # never fetch the cost map from the internet
            "LITELLM_TELEMETRY": "False",
            "NO_DOCS": "True",
        }
        binary = Path(sys.executable).parent / "litellm"
        log = (work / "litellm.log").open("w")
        proc = subprocess.Popen(
            [str(binary), "--config", "config.yaml", "--host", "127.0.0.1", "--port", str(port)],
            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(proc, url, work / "litellm.log")
            yield url
        finally:
            stop(proc, grace=15)
            log.close()


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"litellm exited: {log.read_text()[-3000:]}")
        try:
            headers = {"authorization": f"Bearer {MASTER_KEY}"}
            if httpx.get(f"{url}/v1/models", headers=headers, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"litellm did not start: {log.read_text()[-3000:]}")


def test_every_failure_against_litellm_is_one_of_its_deviations(
    litellm_relay: str, tmp_path: Path
) -> None:
    profile = tmp_path / "litellm.yaml"
    profile.write_text(
        "name: litellm\n"
        "budget: {requests: 3000, tokens: 2000000, paid_media_calls: 50}\n"
        "limits: {rps: 50, timeout: 30, stream_stall: 10, task_seconds: 30, concurrency: 4}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "relaykit", "check", "--base-url", litellm_relay,
         "--profile", str(profile), "--report-dir", str(tmp_path), "--name", "litellm"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "COLUMNS": "200", "RELAYKIT_API_KEY": MASTER_KEY},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    record = json.loads((tmp_path / "litellm" / "record.json").read_text(encoding="utf-8"))

    assert record["discovery"]["models"] == list(MODELS)
    unexplained = [
        f"{f['operation_id']} {f['check_id']}: {f['message']}"
        for f in record["findings"]
        if f["outcome"] in ("fail", "error")
        and not re.search(DEVIATIONS.get(f["check_id"], ("$^", ""))[0], f["message"])
    ]
    assert unexplained == [], "\n".join(unexplained)
    failed = {f["check_id"] for f in record["findings"] if f["outcome"] == "fail"}
    assert {"auth.wrong_key", "sse.usage_chunk"} <= failed  # its plainest deviations are seen

    ops = record["operations"]
    # routes it does not offer, and what depends on them, are skips with that reason
    assert ops["mj.submit.imagine"]["offered"].startswith("route not offered")
    assert ops["suno.submit.music"]["offered"].startswith("route not offered")
    assert all(
        f["outcome"] == "skip" for f in record["findings"] if f["operation_id"] == "mj.task.fetch"
    )
    # models it does not offer: the operation they select, or a substitute of the same kind
    assert ops["openai.chat.gpt4_all.image_analysis"]["offered"].startswith("model not offered")
    assert ops["openai.chat.completions.nonstream"]["offered"] == ""
    assert ops["openai.chat.vision.nonstream"]["model"] == "gpt-4o"
    offered = [op for op, info in ops.items() if not info["offered"]]
    assert 10 <= len(offered) < 40, offered
    assert MASTER_KEY not in (tmp_path / "litellm" / "record.json").read_text(encoding="utf-8")

    # one cause, one line: the wrong key answered 400 on every offered operation is one cause
    wrong_key = [c for c in record["causes"] if c["check_id"] == "auth.wrong_key"]
    assert len(wrong_key) == 1 and len(wrong_key[0]["operations"]) == len(offered), wrong_key
    assert "Score: offered" in done.stdout and f"of {len(ops)} operations" in done.stdout
