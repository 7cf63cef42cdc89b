"""Throughput and latency of the mock beside a bare Starlette app serving the same bytes.

    python bench/bench_mock.py [--seconds 5] [--concurrency 16]

Three scenarios: GET /v1/models, chat not streamed, chat streamed (complete streams/s and time
to first event). The ceiling is a bare Starlette app (same uvicorn, same process model) that
answers each request with bytes captured from the mock, so the ratio is the cost of relaykit's
routing, auth, validation and rendering. Each server runs in its own process with stream pacing
off; the load comes from an asyncio httpx client in this process. Scenarios alternate
mock/ceiling so both see the same machine state. Prints medians and p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.serving import free_port  # noqa: E402

AUTH = {"Authorization": "Bearer sk-bench"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello."}]}
SCENARIOS = {
    "models": ("GET", "/v1/models", None),
    "chat": ("POST", "/v1/chat/completions", CHAT),
    "chat-stream": ("POST", "/v1/chat/completions", {**CHAT, "stream": True}),
}

CEILING_APP = """
import json, os
from starlette.applications import Starlette
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
captured = json.load(open(os.environ["CEILING_CAPTURE"]))
def make(entry):
    body = entry["body"].encode()
    frames = [f.encode() for f in entry.get("frames", [])]
    async def endpoint(request):
        await request.body()
        if frames:
            async def gen():
                for f in frames:
                    yield f
            return StreamingResponse(gen(), media_type="text/event-stream")
        return Response(body, media_type="application/json")
    return endpoint
routes = [Route(e["path"], make(e), methods=[e["method"]]) for e in captured if not e.get("frames")]
streams = [e for e in captured if e.get("frames")]
if streams:
    routes = [r for r in routes if r.path != streams[0]["path"]]
    plain = next(e for e in captured if e["path"] == streams[0]["path"] and not e.get("frames"))
    async def chat(request):
        raw = await request.body()
        entry = streams[0] if b'"stream":true' in raw.replace(b" ", b"") else plain
        return await make(entry)(request)
    routes.append(Route(streams[0]["path"], chat, methods=["POST"]))
app = Starlette(routes=routes)
"""


def start(cmd: list[str], port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/models", headers=AUTH, timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server on port {port} did not start")


def capture(url: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for method, path, body in SCENARIOS.values():
        r = httpx.request(method, url + path, json=body, headers=AUTH)
        entry: dict[str, object] = {"method": method, "path": path, "body": r.text}
        if body and body.get("stream"):
            entry["frames"] = [f + "\n\n" for f in r.text.split("\n\n") if f]
        out.append(entry)
    return out


async def load(url: str, scenario: str, seconds: float, concurrency: int) -> dict[str, float]:
    method, path, body = SCENARIOS[scenario]
    latencies: list[float] = []
    first_events: list[float] = []
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=AUTH, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                async with client.stream(method, path, json=body) as r:
                    first = None
                    async for _ in r.aiter_raw():
                        if first is None:
                            first = time.perf_counter() - t0
                    assert r.status_code == 200, r.status_code
                latencies.append(time.perf_counter() - t0)
                if first is not None:
                    first_events.append(first)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / elapsed,
        "p50": q[49] * 1000,
        "p99": q[98] * 1000,
        "ttfe_p50": statistics.median(first_events) * 1000 if first_events else 0.0,
    }


async def in_process(app: object, scenario: str, requests: int) -> dict[str, float]:
    """Call the ASGI app directly (no sockets, no client process): the server's own cost."""
    method, path, body = SCENARIOS[scenario]
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    times: list[float] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=AUTH) as c:
        for _ in range(requests):
            t0 = time.perf_counter()
            r = await c.request(method, path, json=body)
            assert r.status_code == 200
            times.append(time.perf_counter() - t0)
    q = statistics.quantiles(times, n=100)
    return {"rps": len(times) / sum(times), "p50": q[49] * 1000, "p99": q[98] * 1000}


def run_in_process(captured: Path, requests: int) -> None:
    """Mock and ceiling side by side, in this process, for each scenario."""
    from mockserver import MockConfig, create_app

    mock_app = create_app(config=MockConfig(ttfe=0, interval=0))
    os.environ["CEILING_CAPTURE"] = str(captured)
    namespace: dict[str, object] = {}
    exec(CEILING_APP, namespace)
    ceiling_app = namespace["app"]
    print(f"\nin-process ASGI calls, {requests} sequential requests per run (server cost only)")
    print(f"{'scenario':<12} {'server':<8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for scenario in SCENARIOS:
        rows = {}
        for name, app in (("mock", mock_app), ("ceiling", ceiling_app)):
            rows[name] = r = asyncio.run(in_process(app, scenario, requests))
            print(f"{scenario:<12} {name:<8} {r['rps']:>8.0f} {r['p50']:>8.3f} {r['p99']:>8.3f}")
        ratio = rows["mock"]["p50"] / rows["ceiling"]["p50"]
        print(f"{'':<12} {'ratio':<8} {ratio:>8.2f}  (mock p50 / ceiling p50)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000, help="in-process requests per run")
    args = parser.parse_args()

    mock_port, ceiling_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    mock = start(
        [
            sys.executable,
            "-m",
            "relaykit",
            "serve",
            "--port",
            str(mock_port),
            "--ttfe-ms",
            "0",
            "--interval-ms",
            "0",
            "--log-level",
            "warning",
        ],
        mock_port,
        env,
    )
    mock_url = f"http://127.0.0.1:{mock_port}"
    captured = ROOT / "bench" / ".captured.json"
    captured.write_text(json.dumps(capture(mock_url)), encoding="utf-8")
    ceiling_dir = ROOT / "bench" / ".ceiling"
    ceiling_dir.mkdir(exist_ok=True)
    (ceiling_dir / "_ceiling.py").write_text(CEILING_APP, encoding="utf-8")
    ceiling = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "_ceiling:app",
            "--port",
            str(ceiling_port),
            "--log-level",
            "warning",
            "--app-dir",
            str(ceiling_dir),
        ],
        ceiling_port,
        {**env, "CEILING_CAPTURE": str(captured)},
    )
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.seconds:g}s per run, "
        f"concurrency {args.concurrency}"
    )
    head = ("scenario", "server", "req/s", "p50 ms", "p99 ms", "ttfe p50")
    print(f"{head[0]:<12} {head[1]:<8} {head[2]:>8} {head[3]:>8} {head[4]:>8} {head[5]:>9}")
    try:
        for scenario in SCENARIOS:
            rows = {}
            for name, url in (("mock", mock_url), ("ceiling", f"http://127.0.0.1:{ceiling_port}")):
                rows[name] = r = asyncio.run(load(url, scenario, args.seconds, args.concurrency))
                ttfe = f"{r['ttfe_p50']:.2f}" if scenario.endswith("stream") else "-"
                figures = f"{r['rps']:>8.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {ttfe:>9}"
                print(f"{scenario:<12} {name:<8} {figures}")
            ratio = rows["mock"]["rps"] / rows["ceiling"]["rps"]
            print(f"{'':<12} {'ratio':<8} {ratio:>8.2f}  (mock req/s / ceiling req/s)")
    finally:
        for proc in (mock, ceiling):
            proc.terminate()
            proc.wait(10)
    run_in_process(captured, args.requests)


if __name__ == "__main__":
    main()
