"""Do injected latency profiles hold? Measured client-side against `relaykit serve --faults`.

    python bench/bench_faults.py [--requests 200] [--concurrency 20]

Two rules in one rules file, served by a real `relaykit serve` process (its own pacing off):
streamed chat paced at ttfe 300±10 ms and interval 40±10 ms, and GET /v1/models delayed
200±50 ms. An asyncio httpx client sends ``--requests`` of each and prints, per measure, the
median and p95 it saw beside what the profile implies (jitter is uniform: median = nominal,
p95 = nominal + 0.9 x jitter). The difference is the cost of HTTP on loopback plus scheduling.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.serving import relaykit_serve  # noqa: E402

AUTH = {"Authorization": "Bearer sk-bench"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello."}]}
RULES = """
seed: 1
rules:
  - match: {operation: openai.chat.completions.stream}
    fault: pace
    ttfe-ms: 300
    interval-ms: 40
    jitter-ms: 10
  - match: {path: /v1/models}
    fault: latency
    latency-ms: 200
    jitter-ms: 50
"""
# (nominal, jitter) in ms; the pace rule's jitter applies to ttfe and interval alike
PROFILE = {"ttfe": (300.0, 10.0), "gap": (40.0, 10.0), "latency": (200.0, 50.0)}


async def one_stream(client: httpx.AsyncClient, ttfes: list[float], gaps: list[float]) -> None:
    started = time.perf_counter()
    last: float | None = None
    body = {**CHAT, "stream": True}
    async with client.stream("POST", "/v1/chat/completions", json=body) as r:
        async for line in r.aiter_lines():
            if not line.startswith("data:"):
                continue
            now = time.perf_counter()
            if last is None:
                ttfes.append((now - started) * 1000)
            else:
                gaps.append((now - last) * 1000)
            last = now


async def one_get(client: httpx.AsyncClient, latencies: list[float]) -> None:
    started = time.perf_counter()
    r = await client.get("/v1/models")
    r.raise_for_status()
    latencies.append((time.perf_counter() - started) * 1000)


async def run(url: str, requests: int, concurrency: int) -> dict[str, list[float]]:
    seen: dict[str, list[float]] = {"ttfe": [], "gap": [], "latency": []}
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=60, limits=limits) as c:

        async def gated(job: Awaitable[None]) -> None:
            async with gate:
                await job

        await asyncio.gather(
            *(gated(one_stream(c, seen["ttfe"], seen["gap"])) for _ in range(requests))
        )
        await asyncio.gather(*(gated(one_get(c, seen["latency"])) for _ in range(requests)))
    return seen


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "faults.yaml"
        rules.write_text(RULES, encoding="utf-8")
        serve = ("--faults", str(rules), "--ttfe-ms", "0", "--interval-ms", "0")
        with relaykit_serve(*serve) as url:
            seen = asyncio.run(run(url, args.requests, args.concurrency))
    print(f"{args.requests} requests per measure, concurrency {args.concurrency}; ms")
    print(f"{'measure':8} {'n':>6} {'median':>8} {'want':>6} {'p95':>8} {'want':>6}")
    for name, values in seen.items():
        nominal, jitter = PROFILE[name]
        print(
            f"{name:8} {len(values):6d} {statistics.median(values):8.1f} {nominal:6.0f} "
            f"{p95(values):8.1f} {nominal + 0.9 * jitter:6.0f}"
        )


if __name__ == "__main__":
    main()
