"""`relaykit check` against hostile relays (tests/hostile_server.py), one test per mode.

Each mode gets a real `relaykit check` child process with a tight profile, and the test
asserts what the issue asks of every row: the run ends on its own (the subprocess timeout is a
safety net, not a measure of speed), exits 1 with a finding naming the cause, writes its
record, prints no traceback, and stays under a memory ceiling measured for that child alone.

Outside pytest-xdist the children run three at a time (a module fixture starts them all on
first use, each test waits for its own); under xdist each test runs its own child.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.hostile_server import MODES, Measured, Options, hostile_relay, measured_check

KEY = "sk-relaykit-hostile-0123456789abcdef"
PROFILE = """name: hostile
limits: {timeout: 2, stream_seconds: 3, stream_stall: 1, run_seconds: 30, rps: 50, retries: 0}
"""
ONLY = ["models", "openai.chat.completions.nonstream", "openai.chat.completions.stream"]
PACING = Options(drip=0.3, stream_drip=0.2)
"""slowloris drips faster than the 1 s read timeout: only the 2 s deadline can end it."""
CEILING_MIB = 400
SAFETY_NET = 240.0
AT_ONCE = 3

CAUSES = {
    "random-json": r"the body is not JSON",
    "html-502": r"answered 502",
    "deep-json": r"the body was not parsed: JSON nested 200,000 deep, over the 64 levels read",
    "short-body": r"peer closed connection without sending complete message body",
    "wrong-length": r"RemoteProtocolError",
    "redirect-loop": r"answered 302",
    "many-headers": r"HTTP 200, then 5,002 header lines, over the 256 read",
    "invalid-utf8": r"the body is not JSON \('utf-8' codec can't decode",
    "endless-sse": r"HTTP 200, then timeout \(2 s\) passed after [\d,]+ bytes of body",
    "slowloris": r"timeout \(2 s\) passed before the headers came",
    "huge-json": r"went over max_body_bytes \(16 MiB\): its Content-Length is 60,000,000",
    "gzip-bomb": (
        r"went over max_body_bytes \(16 MiB\) after [\d,]+ bytes of body "
        r"\(inflated from [\d,]+ gzip bytes\)"
    ),
    "never-answers": r"ReadTimeout: no byte for 1 s before the headers came",
    "one-event-then-silence": r"HTTP 200, then ReadTimeout: no byte for 1 s after \d+ bytes",
    "drip-stream": r"HTTP 200, then timeout \(2 s\) passed after \d+ bytes of body",
    "reset-mid-body": r"HTTP 200, then ReadError: .*reset by peer",
}
"""A message one of the run's findings must carry (an error or a failure), per mode."""
NOT_ANSWERING = {
    "short-body", "many-headers", "endless-sse", "slowloris", "huge-json", "gzip-bomb",
    "never-answers", "one-event-then-silence", "drip-stream", "reset-mid-body",
}  # fmt: skip
"""Modes where no request gets a whole answer: the run stops early and skips the rest."""


class Runs:
    """The measured `relaykit check` of each mode, started on demand."""

    def __init__(self, root: Path, at_once: int) -> None:
        self.root = root
        self.pool = ThreadPoolExecutor(max_workers=at_once)
        self.futures: dict[str, Future[Measured]] = {}
        self.profile = root / "hostile.yaml"
        self.profile.write_text(PROFILE, encoding="utf-8")

    def start(self, mode: str) -> None:
        if mode not in self.futures:
            self.futures[mode] = self.pool.submit(self._run, mode)

    def result(self, mode: str) -> Measured:
        self.start(mode)
        return self.futures[mode].result()

    def _run(self, mode: str) -> Measured:
        args = ["check", "--profile", str(self.profile), "--name", mode]
        args += [arg for only in ONLY for arg in ("--only", only)]
        env = {**os.environ, "RELAYKIT_API_KEY": KEY, "COLUMNS": "200"}
        with hostile_relay(mode, PACING) as url:
            return measured_check(
                [*args, "--base-url", url], env, str(self.root), safety_net=SAFETY_NET
            )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    alone = "PYTEST_XDIST_WORKER" in os.environ  # xdist spreads the modes itself
    started = Runs(tmp_path_factory.mktemp("hostile"), 1 if alone else AT_ONCE)
    if not alone:
        for mode in CAUSES:
            started.start(mode)
    yield started
    started.pool.shutdown(cancel_futures=True)


def test_every_mode_has_an_expected_cause() -> None:
    assert set(CAUSES) == set(MODES)


@pytest.mark.parametrize("mode", list(CAUSES))
def test_a_hostile_relay_gets_findings_not_a_hang(runs: Runs, mode: str) -> None:
    done = runs.result(mode)
    assert done.code == 1, f"exit {done.code}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    assert done.peak_rss_mib < CEILING_MIB, f"peak RSS {done.peak_rss_mib:.0f} MiB"
    record = json.loads((runs.root / "reports" / mode / "record.json").read_text("utf-8"))
    bad = [f["message"] for f in record["findings"] if f["outcome"] in ("error", "fail")]
    assert any(re.search(CAUSES[mode], m) for m in bad), "\n".join(sorted(set(bad))[:20])
    skipped = [f["message"] for f in record["findings"] if f["outcome"] == "skip"]
    stopped = any("relay not answering: " in m for m in skipped)
    assert stopped == (mode in NOT_ANSWERING), record["run"]
    if stopped:
        assert record["run"]["stopped"].startswith("relay not answering: 6 of the first")
    assert KEY not in json.dumps(record)
