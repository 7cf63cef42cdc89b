"""Hand-built run records for the report tests: every outcome, a stream, a masked key."""

from __future__ import annotations

from suites.findings import Finding, Outcome
from suites.record import OperationInfo, RunRecord
from suites.redact import MASK

CHAT_URL = "https://relay.example/v1/chat/completions"
MASKED_HEADERS = {"authorization": f"Bearer {MASK}", "content-type": "application/json"}
HOSTILE = "<script>alert('owned')</script>"
"""A relay answer that tries to run script in the HTML report."""
STREAM_EVENTS = [
    {"at": 0.0121, "event": "", "data": '{"id":"c1","choices":[{"delta":{"role":"assistant"}}]}'},
    {"at": 0.0345, "event": "", "data": '{"id":"c1","choices":[{"delta":{"content":"Hi"}}]}'},
    {"at": 0.0562, "event": "", "data": '{"id":"c1","choices":[{"finish_reason":"stop"}]}'},
]


def _exchange(status: int, excerpt: str, body: str = '{"model":"gpt-4o-mini"}') -> dict[str, dict]:
    return {
        "request": {"method": "POST", "url": CHAT_URL, "headers": MASKED_HEADERS, "body": body},
        "response": {
            "status": status,
            "headers": {"content-type": "application/json"},
            "excerpt": excerpt,
        },
    }


def broken_record() -> RunRecord:
    """A run against a broken relay: all five outcomes, a stream, a transport error."""
    ok = _exchange(200, '{"id":"chatcmpl-1","object":"chat.completion"}')
    bad = _exchange(200, '{"id":"chatcmpl-2","choices":[{"message":{}}]} ' + HOSTILE)
    stream_ex = _exchange(200, "", '{"stream":true}')
    findings = [
        Finding(
            "chat.create",
            "response.schema",
            Outcome.PASS,
            "matches the schema",
            "example:basic",
            **ok,
            timings={"elapsed": 0.12},
        ),
        Finding(
            "chat.create",
            "response.schema",
            Outcome.FAIL,
            "choices.0.message: 'content' is a required property",
            "property#3",
            **bad,
            timings={"elapsed": 0.2},
        ),
        Finding(
            "chat.create",
            "invariant.choices_len_n",
            Outcome.PASS,
            "2 choices for n=2",
            "example:basic",
            **ok,
            timings={"elapsed": 0.12},
        ),
        Finding(
            "chat.create",
            "auth.no_key",
            Outcome.PASS,
            "401 without a key",
            "auth",
            timings={"elapsed": 0.01},
        ),
        Finding(
            "chat.create",
            "negative.malformed_json",
            Outcome.ERROR,
            "transport: ReadTimeout after 30 s",
            "negative",
            request={
                "method": "POST",
                "url": CHAT_URL + "?key=" + MASK,
                "headers": MASKED_HEADERS,
                "body": "{not json",
            },
            response={"status": None, "headers": {}, "excerpt": "", "error": "ReadTimeout"},
            timings={"elapsed": 30.0},
        ),
        Finding(
            "chat.stream",
            "sse.terminator",
            Outcome.FAIL,
            "no data: [DONE] after the last chunk",
            "example:stream",
            **stream_ex,
            timings={"elapsed": 0.0562, "ttfe": 0.0121, "headers": 0.004},
            events=STREAM_EVENTS,
        ),
        Finding(
            "chat.stream",
            "sse.framing",
            Outcome.PASS,
            "3 data events",
            "example:stream",
            **stream_ex,
            timings={"elapsed": 0.0562, "ttfe": 0.0121, "headers": 0.004},
            events=STREAM_EVENTS,
        ),
        Finding(
            "mj.imagine",
            "task.lifecycle",
            Outcome.INCONCLUSIVE,
            "task still IN_PROGRESS after 300 s",
            "example:imagine",
        ),
        Finding(
            "suno.submit",
            "response.schema",
            Outcome.SKIP,
            "unsupported: the profile does not run suno",
        ),
        Finding(
            "suno.submit",
            "task.lifecycle",
            Outcome.SKIP,
            "unsupported: the profile does not run suno",
        ),
        Finding(
            "suno.lyrics", "response.schema", Outcome.SKIP, "budget: paid media calls (0 allowed)"
        ),
    ]
    operations = {
        "chat.create": OperationInfo(
            "openai-chat",
            "POST",
            "/v1/chat/completions",
            "Chat",
            latency=[0.12, 0.2, 0.12, 0.01],
            fields=["choices", "choices.*.message", "id", "object"],
        ),
        "chat.stream": OperationInfo(
            "openai-chat", "POST", "/v1/chat/completions", "Chat stream", latency=[0.0562]
        ),
        "mj.imagine": OperationInfo(
            "midjourney",
            "POST",
            "/mj/submit/imagine",
            "Imagine",
            latency=[0.05, 0.06],
            fields=["code", "description", "result"],
        ),
        "suno.submit": OperationInfo("suno", "POST", "/suno/submit/music"),
        "suno.lyrics": OperationInfo("suno", "POST", "/suno/submit/lyrics"),
    }
    return RunRecord(
        run={
            "name": "broken",
            "target": "relay.example",
            "base_url": "https://relay.example",
            "started": "2025-01-02T03:04:05Z",
            "finished": "2025-01-02T03:05:05Z",
            "seconds": 60.0,
            "seed": 7,
            "dry_run": False,
        },
        budget={"requests": 100, "tokens": 10000, "paid_media_calls": 0},
        spent={"requests": 9, "tokens": 120, "paid_calls": 0},
        operations=operations,
        findings=findings,
        tool="relaykit 0.1.0",
    )


def clean_record() -> RunRecord:
    """The same run against a healthy relay: everything that ran passes."""
    record = broken_record()
    record.run = {**record.run, "name": "clean"}
    for f in record.findings:
        if f.outcome in (Outcome.FAIL, Outcome.ERROR, Outcome.INCONCLUSIVE):
            f.outcome = Outcome.PASS
            f.message = "held"
    return record
