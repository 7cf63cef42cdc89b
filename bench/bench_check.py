"""How long `relaykit check` takes against the embedded mock, and what the harness itself costs.

    python bench/bench_check.py [--runs 5] [--property-examples 3]

Side by side in one process, alternating, ``--runs`` times each:

1. **check**: the whole plan (every operation: examples, negative, property-based,
   schemathesis) through the runner against the mock in a background thread, as
   ``relaykit check`` does;
2. **replay**: the same number of requests, the bare transport replaying the run's own request
   log (same methods, URLs, JSON bodies; multipart bodies are not replayed; no judging, no
   polling waits, no stream parsing) from as many threads as the run checks operations at once,
   against the same mock.

The ratio check/replay is what planning, judging, stream reading and task polling add to the
HTTP traffic itself. Prints medians in seconds and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contracts.loader import default_contracts  # noqa: E402
from mockserver import MockConfig, create_app  # noqa: E402
from mockserver.background import serve_in_thread  # noqa: E402
from relaykit.runs import EMBEDDED_BUDGET, EMBEDDED_LIMITS, EMBEDDED_TASK_SPEED  # noqa: E402
from suites.plan import make_plan  # noqa: E402
from suites.profile import Profile  # noqa: E402
from suites.runner import run  # noqa: E402
from suites.transport import Transport  # noqa: E402

KEY = "sk-relaykit-bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--property-examples", type=int, default=3)
    args = parser.parse_args()
    contracts = default_contracts()
    profile = Profile(limits=EMBEDDED_LIMITS, budget=EMBEDDED_BUDGET)
    plan = make_plan(contracts, profile, (), args.property_examples)
    config = MockConfig(
        api_keys=frozenset({KEY}), ttfe=0.005, interval=0.003, task_speed=EMBEDDED_TASK_SPEED
    )
    checks, replays, requests = [], [], 0
    with serve_in_thread(create_app(contracts, config)) as url:
        for _ in range(args.runs):
            started = time.perf_counter()
            record = run(
                contracts, profile, plan, url, KEY, property_examples=args.property_examples
            )
            checks.append(time.perf_counter() - started)
            requests = record.spent["requests"]
            log = [f.request for f in record.findings if f.request]
            replays.append(_replay(url, log, requests))
    check_s, replay_s = statistics.median(checks), statistics.median(replays)
    print(f"operations: {len(contracts)}, requests per run: {requests}, runs: {args.runs}")
    print(f"check  median {check_s:.2f} s  ({requests / check_s:.0f} requests/s)")
    print(f"replay median {replay_s:.2f} s  (the same number of requests, nothing judged)")
    print(f"ratio check/replay: {check_s / replay_s:.2f}")


def _replay(url: str, log: list[dict[str, object]], count: int) -> float:
    """Send ``count`` requests cycling through the logged ones, as many at once as the run
    checks operations at once; seconds taken."""
    transport = Transport(url, KEY, EMBEDDED_LIMITS, EMBEDDED_BUDGET)

    def one(i: int) -> None:
        entry = log[i % len(log)]
        body = str(entry.get("body") or "")
        content = body.encode() if body.startswith(("{", "[")) else None
        headers = {"content-type": "application/json"} if content else {}
        request = transport.build(
            str(entry["method"]), str(entry["url"]), content=content, headers=headers
        )
        transport.send(request)

    started = time.perf_counter()
    with ThreadPoolExecutor(EMBEDDED_LIMITS.concurrency) as pool:
        list(pool.map(one, range(count)))
    transport.close()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
