"""`relaykit serve` beside a bare Starlette app serving the same bytes on the same server stack.

    python bench/bench_serve.py [--seconds 5] [--rounds 3] [--connections 16] [--prism]

The load generator is wrk (C, event loop; Debian's `wrk`), pinned to core 0 with this script;
the servers are pinned to core 1 (`taskset`), so the client is never the bottleneck and never
competes with the server for its core. Measured, side by side in one run:

- req/s for GET /v1/models, chat not streamed, chat streamed (complete streams/s), each one
  request repeated, and chat with a different message in every request (``chat-varied``: the
  mock renders each, it cannot answer from a kept answer), for
  `relaykit serve` (stream pacing off with its own `--ttfe-ms 0 --interval-ms 0`, everything
  else at its defaults) and a bare Starlette app that answers with the very bytes captured from
  the mock (body and headers), run by the same uvicorn with the same event loop and HTTP parser;
  several rounds, the order alternated each round; medians and the ratio relaykit/bare;
- time to first event of a stream, measured apart by a small socket client (one request at a
  time, no load): from the request's first byte sent to the first `data:` byte read;
- `--workers 2` against one worker, both servers: with only two cores, the two workers and wrk
  share both (wrk stays on core 0), which is said in the output;
- start-up: from the command's start to the first 200 from GET /v1/models (median of
  `--startup-runs`, the first run with an empty contract cache shown apart), and the idle RSS
  of the serving process(es) read from /proc;
- with `--prism`: Stoplight Prism 5.14 (installed with npm into a cache directory) serving
  the OpenAPI document `relaykit export openapi` writes, cut to models and chat (three
  operations), on the same core, same wrk.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-bench"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello."}]}
SCENARIOS: dict[str, tuple[str, str, dict[str, object] | None]] = {
    "models": ("GET", "/v1/models", None),
    "chat": ("POST", "/v1/chat/completions", CHAT),
    "chat-stream": ("POST", "/v1/chat/completions", {**CHAT, "stream": True}),
    "chat-varied": ("POST", "/v1/chat/completions", CHAT),
}
VARIED = frozenset({"chat-varied"})
"""Scenarios whose every request differs (its message ends with a counter): the mock cannot
answer them from a kept answer (mockserver/answers.py), the others repeat one request."""
VARY = "@N@"
CLIENT_CPU, SERVER_CPU, BOTH_CPUS = "0", "1", "0,1"
PRISM_VERSION = "5.14"
PRISM_PATHS = ("/v1/models", "/v1/models/{model}", "/v1/chat/completions")

BARE_APP = '''
"""The ceiling: a bare Starlette app answering with bytes captured from the mock."""
import json, os
from starlette.applications import Starlette
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

captured = json.load(open(os.environ["BARE_CAPTURE"]))

def answer(entry):
    headers = entry["headers"]
    if entry["frames"]:
        frames = [f.encode() for f in entry["frames"]]
        async def gen():
            for f in frames:
                yield f
        return StreamingResponse(gen(), headers=headers, media_type="text/event-stream")
    return Response(entry["body"].encode(), headers=headers, media_type=entry["media_type"])

async def models(request):
    return answer(captured["models"])

async def chat(request):
    raw = await request.body()
    streamed = b'"stream":true' in raw.replace(b" ", b"")
    return answer(captured["chat-stream" if streamed else "chat"])

app = Starlette(routes=[
    Route("/v1/models", models, methods=["GET"]),
    Route("/v1/chat/completions", chat, methods=["POST"]),
])
'''


# ---------------------------------------------------------------- processes and /proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(port: int, path: str, timeout: float = 1.0) -> int:
    """Status of a GET with the bench key, 0 when nothing answers (yet)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {KEY}"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except OSError:
        return 0
    finally:
        conn.close()


def descendants(pid: int) -> list[int]:
    """pid and every process below it (uvicorn's supervisor has the workers as children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
    return out


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its descendants, MiB."""
    total = 0
    for p in descendants(pid):
        with contextlib.suppress(OSError), open(f"/proc/{p}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


@dataclass
class Server:
    name: str
    cmd: list[str]
    cpus: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    started_in: float = 0.0
    idle_rss: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Server:
        self.port = free_port()
        cmd = [a.replace("{port}", str(self.port)) for a in self.cmd]
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            ["taskset", "-c", self.cpus, *cmd],
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while http_get(self.port, "/v1/models") != 200:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.proc.returncode}: {cmd}")
            if time.perf_counter() - t0 > timeout:
                self.stop()
                raise SystemExit(f"{self.name} did not answer within {timeout:g} s")
            time.sleep(0.005)
        self.started_in = time.perf_counter() - t0
        time.sleep(1.0)  # let the workers settle before reading their memory
        self.idle_rss = rss_mib(self.proc.pid)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


@contextlib.contextmanager
def running(*servers: Server) -> Iterator[tuple[Server, ...]]:
    try:
        yield tuple(s.start() for s in servers)
    finally:
        for s in servers:
            s.stop()


# ---------------------------------------------------------------- wrk and the small client


def wrk_script(scenario: str, directory: Path) -> Path:
    method, _, body = SCENARIOS[scenario]
    lines = [f'wrk.method = "{method}"', f'wrk.headers["Authorization"] = "Bearer {KEY}"']
    if body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
        lines.append(f"wrk.body = {json.dumps(json.dumps(body, separators=(',', ':')))}")
    if scenario in VARIED:  # the body built per request: "Say hello. 1", "Say hello. 2"...
        varied = {**CHAT, "messages": [{"role": "user", "content": f"Say hello. {VARY}"}]}
        head, tail = json.dumps(varied, separators=(",", ":")).split(VARY)
        lines += [
            "local n = 0",
            "request = function()",
            "  n = n + 1",
            f"  return wrk.format(nil, nil, nil, {json.dumps(head)} .. n .. {json.dumps(tail)})",
            "end",
        ]
    path = directory / f"{scenario}.lua"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants so far."""
    ticks = 0
    for p in descendants(pid):
        with contextlib.suppress(OSError), open(f"/proc/{p}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    rps: float
    cpu_us: float
    """The server's own CPU time per request (all its processes): what it costs, whatever else
    runs on the machine."""


def wrk(
    url: str,
    scenario: str,
    seconds: float,
    connections: int,
    scripts: Path,
    server: Server | None = None,
) -> Run:
    """req/s of one wrk run (and the server's CPU per request); errors or non-2xx refused."""
    path = SCENARIOS[scenario][1]
    before = cpu_seconds(server.proc.pid) if server and server.proc else 0.0
    out = subprocess.run(
        [
            "taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s",
            "-s", str(wrk_script(scenario, scripts)), url + path,
        ],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if bad or errors:
        raise SystemExit(f"wrk against {url} ({scenario}) saw failures:\n{out}")
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    n = re.search(r"(\d+) requests in", out)
    assert m and n, out
    spent = cpu_seconds(server.proc.pid) - before if server and server.proc else 0.0
    return Run(float(m.group(1)), spent * 1e6 / max(1, int(n.group(1))))


def first_event_ms(port: int, runs: int) -> float:
    """Median ms from a stream request's first byte sent to the first ``data:`` byte read."""
    body = json.dumps(SCENARIOS["chat-stream"][2]).encode()
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    times = []
    for _ in range(runs):
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            got = b""
            t0 = time.perf_counter()
            s.sendall(request)
            first = None
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
                if first is None and b"data:" in got:
                    first = time.perf_counter() - t0
            if first is None or b"[DONE]" not in got:
                raise SystemExit(f"no complete stream from port {port}: {got[:300]!r}")
            times.append(first * 1000)
    return statistics.median(times)


# ---------------------------------------------------------------- what is benched


def relaykit_cmd(*extra: str) -> list[str]:
    exe = Path(sys.executable).with_name("relaykit")
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "relaykit"]
    return [*head, "serve", "--port", "{port}", "--ttfe-ms", "0", "--interval-ms", "0", *extra]


def bare_cmd(app_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "_bare:app", "--app-dir", str(app_dir),
        "--port", "{port}", "--log-level", "warning", "--no-access-log", *extra,
    ]  # fmt: skip


def server_stack() -> str:
    """What uvicorn's auto choice resolves to here (the mock's and the bare app's stack)."""
    parts = []
    for module, fast, slow in (("uvloop", "uvloop", "asyncio"), ("httptools", "httptools", "h11")):
        try:
            __import__(module)
            parts.append(fast)
        except ImportError:
            parts.append(slow)
    import uvicorn

    return f"uvicorn {uvicorn.__version__} ({', '.join(parts)})"


def capture(port: int) -> dict[str, dict[str, object]]:
    """Each scenario's answer from the mock: body or SSE frames, and the headers the app set."""
    import httpx

    keep = ("content-type", "x-relaykit-operation", "x-request-id", "cache-control",
            "x-accel-buffering")  # fmt: skip
    out: dict[str, dict[str, object]] = {}
    for name, (method, path, body) in SCENARIOS.items():
        r = httpx.request(
            method, f"http://127.0.0.1:{port}{path}", json=body,
            headers={"Authorization": f"Bearer {KEY}"},
        )  # fmt: skip
        r.raise_for_status()
        streamed = bool(body and body.get("stream"))
        out[name] = {
            "body": r.text,
            "frames": [f + "\n\n" for f in r.text.split("\n\n") if f] if streamed else [],
            "headers": {k: v for k, v in r.headers.items() if k in keep and k != "content-type"},
            "media_type": r.headers["content-type"],
        }
    return out


def prism_spec(path: Path) -> None:
    """The export, cut to models and chat (three operations), components kept."""
    sys.path.insert(0, str(ROOT))
    from contracts.loader import default_contracts
    from contracts.openapi import to_openapi

    doc = to_openapi(default_contracts())
    doc["paths"] = {p: v for p, v in doc["paths"].items() if p in PRISM_PATHS}
    path.write_text(json.dumps(doc), encoding="utf-8")


def prism_install(cache: Path) -> Path | None:
    if shutil.which("npm") is None or shutil.which("node") is None:
        print("--prism: npm or node is not installed here; Prism is skipped")
        return None
    binary = cache / "node_modules" / ".bin" / "prism"
    if not binary.exists():
        print(f"--prism: npm install @stoplight/prism-cli@{PRISM_VERSION} into {cache} ...")
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["npm", "install", "--prefix", str(cache), "--no-audit", "--no-fund",
             f"@stoplight/prism-cli@{PRISM_VERSION}"],
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0 or not binary.exists():
            print(f"--prism: npm install failed; Prism is skipped:\n{done.stderr[-1500:]}")
            return None
    return binary


# ---------------------------------------------------------------- the run


def median_table(
    pairs: list[tuple[Server, Server]],
    scenarios: list[str],
    args: argparse.Namespace,
    scripts: Path,
    label: str,
) -> dict[tuple[str, str], Run]:
    """Rounds of wrk over (relaykit, other) pairs, order alternated; medians by (server, scen)."""
    runs: dict[tuple[str, str], list[Run]] = {}
    for r in range(args.rounds):
        for scenario in scenarios:
            for a, b in pairs:
                order = (a, b) if r % 2 == 0 else (b, a)
                for s in order:
                    run = wrk(s.url, scenario, args.seconds, args.connections, scripts, s)
                    runs.setdefault((s.name, scenario), []).append(run)
        print(f"  {label}: round {r + 1}/{args.rounds} done", file=sys.stderr)
    return {
        k: Run(statistics.median(r.rps for r in v), statistics.median(r.cpu_us for r in v))
        for k, v in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--ttfe-runs", type=int, default=200)
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument(
        "--only",
        action="append",
        choices=["startup", "throughput", "workers", "prism", "granian"],
        help="run only these parts (repeatable; default: all, prism with --prism)",
    )
    parser.add_argument("--prism", action="store_true", help="also bench Stoplight Prism 5.14")
    parser.add_argument(
        "--granian", action="store_true", help="also run the mock's app and the bare app on granian"
    )
    parser.add_argument(
        "--prism-cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "relaykit-bench" / "prism",
    )  # fmt: skip
    args = parser.parse_args()
    args.parts = set(args.only or ["startup", "throughput", "workers"])
    if args.prism:
        args.parts.add("prism")
    if args.granian:
        args.parts.add("granian")
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        raise SystemExit("needs wrk and taskset (Debian: apt-get install wrk util-linux)")
    os.sched_setaffinity(0, {int(CLIENT_CPU)})  # this script and its clients: core 0

    load = os.getloadavg()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {server_stack()}, "
        f"wrk -t1 -c{args.connections} {args.seconds:g} s x {args.rounds} rounds; "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    work = Path(tempfile.mkdtemp(prefix="relaykit-bench-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def run(args: argparse.Namespace, work: Path) -> None:
    cache_env = {"RELAYKIT_CACHE_DIR": str(work / "cache")}

    if "startup" in args.parts:
        startup(args, work, cache_env)
    scripts = work / "wrk"
    scripts.mkdir()
    if args.parts & {"throughput", "workers"}:
        throughput(args, work, cache_env, scripts)
    if "prism" in args.parts:
        prism(args, work, cache_env, scripts)
    if "granian" in args.parts:
        granian(args, work, cache_env, scripts)


def startup(args: argparse.Namespace, work: Path, cache_env: dict[str, str]) -> None:
    """Start-up time and idle memory, one worker and two."""
    print("\nstart-up (command start -> first 200 on GET /v1/models) and idle RSS")
    for workers in (1, 2):
        shutil.rmtree(work / "cache", ignore_errors=True)
        times, rss, cold = [], [], 0.0
        cpus = SERVER_CPU if workers == 1 else BOTH_CPUS
        for i in range(args.startup_runs + 1):
            s = Server("relaykit", relaykit_cmd("--workers", str(workers)), cpus, cache_env)
            with running(s):
                if i == 0:
                    cold = s.started_in
                else:
                    times.append(s.started_in)
                rss.append(s.idle_rss)
        print(
            f"  --workers {workers}: first start (empty cache) {cold:.2f} s; then median "
            f"{statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}, "
            f"n={len(times)}); idle RSS {statistics.median(rss):.0f} MiB"
            + (" (supervisor + 2 workers)" if workers > 1 else "")
        )


def throughput(
    args: argparse.Namespace, work: Path, cache_env: dict[str, str], scripts: Path
) -> None:
    """relaykit and the bare app, one worker each, then two."""
    relaykit = Server("relaykit", relaykit_cmd(), SERVER_CPU, cache_env).start()
    try:
        (work / "capture.json").write_text(json.dumps(capture(relaykit.port)), encoding="utf-8")
    except BaseException:
        relaykit.stop()
        raise
    (work / "_bare.py").write_text(BARE_APP, encoding="utf-8")
    bare_env = {"BARE_CAPTURE": str(work / "capture.json")}
    bare = Server("bare", bare_cmd(work), SERVER_CPU, bare_env)
    scenarios = list(SCENARIOS)
    try:
        bare.start()
        for s in (relaykit, bare):  # warm both up
            wrk(s.url, "chat", 1, args.connections, scripts)
        ttfe = {s.name: first_event_ms(s.port, args.ttfe_runs) for s in (relaykit, bare)}
        print(f"\none worker each, pinned to core {SERVER_CPU}; wrk on core {CLIENT_CPU}")
        one = median_table([(relaykit, bare)], scenarios, args, scripts, "one worker")
        rss_after = {s.name: rss_mib(s.proc.pid) for s in (relaykit, bare) if s.proc}
    finally:
        relaykit.stop()
        bare.stop()
    print(
        f"{'scenario':<12} {'relaykit':>10} {'bare':>10} {'ratio':>7}   (req/s, medians)"
        f"   {'relaykit':>9} {'bare':>9} {'ratio':>7}   (server CPU us per request)"
    )
    for scenario in scenarios:
        a, b = one[("relaykit", scenario)], one[("bare", scenario)]
        print(
            f"{scenario:<12} {a.rps:>10.0f} {b.rps:>10.0f} {a.rps / b.rps:>7.2f}"
            f"   {a.cpu_us:>9.0f} {b.cpu_us:>9.0f} {b.cpu_us / a.cpu_us:>7.2f}"
        )
    print(
        f"time to first event, pacing off (median of {args.ttfe_runs}, one at a time): "
        f"relaykit {ttfe['relaykit']:.2f} ms, bare {ttfe['bare']:.2f} ms"
    )
    print(
        f"RSS after the load: relaykit {rss_after.get('relaykit', 0):.0f} MiB, "
        f"bare {rss_after.get('bare', 0):.0f} MiB (idle before: {relaykit.idle_rss:.0f}, "
        f"{bare.idle_rss:.0f})"
    )

    if "workers" in args.parts:
        print(
            f"\n--workers 2, both servers on cores {BOTH_CPUS} (wrk stays on core {CLIENT_CPU}: "
            "the machine has two cores, so the workers share one with the load generator)"
        )
        r2 = Server("relaykit", relaykit_cmd("--workers", "2"), BOTH_CPUS, cache_env)
        b2 = Server("bare", bare_cmd(work, "--workers", "2"), BOTH_CPUS, bare_env)
        with running(r2, b2):
            two = median_table([(r2, b2)], ["models", "chat"], args, scripts, "two workers")
        print(
            f"{'scenario':<12} {'relaykit':>10} {'x1 worker':>10} {'bare':>10} {'x1 worker':>10}"
            f"   {'CPU us/request, relaykit 2 vs 1 worker':>40}"
        )
        for scenario in ("models", "chat"):
            a, b = two[("relaykit", scenario)], two[("bare", scenario)]
            a1, b1 = one[("relaykit", scenario)], one[("bare", scenario)]
            print(
                f"{scenario:<12} {a.rps:>10.0f} {a.rps / a1.rps:>10.2f} "
                f"{b.rps:>10.0f} {b.rps / b1.rps:>10.2f}"
                f"   {a.cpu_us:>24.0f} vs {a1.cpu_us:.0f} ({a1.cpu_us / a.cpu_us:.2f})"
            )
        print(
            "(with two cores free for the server, throughput would scale by the CPU ratio times "
            "two: the work per request, not the cores, is what this machine can measure)"
        )


def prism(args: argparse.Namespace, work: Path, cache_env: dict[str, str], scripts: Path) -> None:
    """relaykit against Stoplight Prism on models and chat."""
    binary = prism_install(args.prism_cache)
    if binary is None:
        return
    spec = work / "prism-openapi.json"
    prism_spec(spec)
    prism = Server(
        "prism",
        [str(binary), "mock", str(spec), "--host", "127.0.0.1", "--port", "{port}"],
        SERVER_CPU,
    )
    relaykit = Server("relaykit", relaykit_cmd(), SERVER_CPU, cache_env)
    with running(relaykit, prism):
        for s in (relaykit, prism):
            wrk(s.url, "chat", 1, args.connections, scripts)
        compared = ["models", "chat", "chat-varied"]
        vs = median_table([(relaykit, prism)], compared, args, scripts, "prism")
    print(
        f"\nStoplight Prism {PRISM_VERSION} (three operations: {', '.join(PRISM_PATHS)}), "
        f"core {SERVER_CPU}"
    )
    print(f"{'scenario':<12} {'relaykit':>10} {'prism':>10} {'x prism':>8}")
    for scenario in compared:
        a, b = vs[("relaykit", scenario)], vs[("prism", scenario)]
        print(
            f"{scenario:<12} {a.rps:>10.0f} {b.rps:>10.0f} {a.rps / b.rps:>8.2f}"
            f"   (CPU per request: {a.cpu_us:.0f} vs {b.cpu_us:.0f} us, {b.cpu_us / a.cpu_us:.2f}x)"
        )


def granian(args: argparse.Namespace, work: Path, cache_env: dict[str, str], scripts: Path) -> None:
    """The mock's app (``mockserver.asgi:app_from_env``, pacing off) and the bare app on granian:
    one worker, one runtime thread, uvloop, on core 1 (a measure only: relaykit does not run on
    granian, see bench/README.md)."""
    if shutil.which("granian") is None and not Path(sys.executable).with_name("granian").exists():
        print("--granian: granian is not installed here (pip install granian); skipped")
        return
    sys.path.insert(0, str(ROOT))
    from mockserver.asgi import ENV_VAR, dump_config
    from mockserver.config import MockConfig

    def cmd(target: str, *extra: str) -> list[str]:
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
            "--port", "{port}", "--workers", "1", "--runtime-threads", "1", "--loop", "uvloop",
            "--log-level", "warning", "--no-access-log", *extra, target,
        ]  # fmt: skip

    config = {ENV_VAR: dump_config(MockConfig(ttfe=0, interval=0)), **cache_env}
    relaykit = Server("relaykit", cmd("mockserver.asgi:app_from_env", "--factory"), SERVER_CPU)
    relaykit.env = {**config, "PYTHONPATH": str(ROOT)}
    bare = Server("bare", cmd("_bare:app", "--working-dir", str(work)), SERVER_CPU)
    bare.env = {"BARE_CAPTURE": str(work / "capture.json")}
    (work / "_bare.py").write_text(BARE_APP, encoding="utf-8")
    with running(relaykit):
        (work / "capture.json").write_text(json.dumps(capture(relaykit.port)), encoding="utf-8")
    with running(relaykit, bare):
        for s in (relaykit, bare):
            wrk(s.url, "chat", 1, args.connections, scripts)
        on = median_table([(relaykit, bare)], list(SCENARIOS), args, scripts, "granian")
    print(f"\ngranian, one worker each, core {SERVER_CPU}")
    print(f"{'scenario':<12} {'relaykit':>10} {'bare':>10} {'ratio':>7}   (req/s, medians)")
    for scenario in SCENARIOS:
        a, b = on[("relaykit", scenario)], on[("bare", scenario)]
        print(
            f"{scenario:<12} {a.rps:>10.0f} {b.rps:>10.0f} {a.rps / b.rps:>7.2f}"
            f"   (CPU per request: {a.cpu_us:.0f} vs {b.cpu_us:.0f} us)"
        )


if __name__ == "__main__":
    main()
