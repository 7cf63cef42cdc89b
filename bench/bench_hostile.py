"""Issue 11's table: `relaykit check` against each hostile relay, timed and measured.

    python bench/bench_hostile.py [--mode gzip-bomb ...] [--at-once 1]

Each mode of tests/hostile_server.py (the issue's rows, plus a drip-fed stream, a reset
mid-body and a wrong Content-Length) is served on loopback and checked by a `relaykit check`
child with the issue's profile, ``limits: {timeout: 10, stream_seconds: 15, stream_stall: 5}``
and ``--only openai-chat --only models``. Printed per mode: wall time, the child's own peak
RSS (os.wait4 from a small launcher), exit code, whether the record was written, whether a
traceback was printed, why the run stopped early (if it did) and the first error or failure.
The issue is done when every row ends in under 60 s, exits 1, writes its record, prints no
traceback and stays under 400 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile_server import MODES, Measured, hostile_relay, measured_check  # noqa: E402

PROFILE = "name: hostile-bench\nlimits: {timeout: 10, stream_seconds: 15, stream_stall: 5}\n"
ONLY = ["--only", "openai-chat", "--only", "models"]
KEY = "sk-relaykit-bench-0123456789abcdef"
SAFETY_NET = 600.0


def one(mode: str, work: Path) -> tuple[str, Measured, dict[str, object] | None]:
    profile = work / "profile.yaml"
    env = {**os.environ, "RELAYKIT_API_KEY": KEY, "COLUMNS": "200"}
    with hostile_relay(mode) as url:
        args = ["check", "--base-url", url, "--profile", str(profile), "--name", mode, *ONLY]
        done = measured_check(args, env, str(work), safety_net=SAFETY_NET)
    path = work / "reports" / mode / "record.json"
    record = json.loads(path.read_text("utf-8")) if path.exists() else None
    return mode, done, record


def first_problem(record: dict[str, object] | None) -> str:
    if record is None:
        return "(no record)"
    findings = record.get("findings", [])
    assert isinstance(findings, list)
    bad = [f for f in findings if f["outcome"] in ("error", "fail")]
    bad.sort(key=lambda f: f["outcome"] != "error")  # a transport error names the cause best
    return f"{bad[0]['check_id']}: {bad[0]['message']}"[:150] if bad else "(none)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", action="append", choices=sorted(MODES), help="repeatable")
    parser.add_argument("--at-once", type=int, default=1, help="children run at the same time")
    args = parser.parse_args()
    modes = args.mode or list(MODES)
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        work = Path(tmp)
        (work / "profile.yaml").write_text(PROFILE, encoding="utf-8")
        print(f"{'mode':<24} {'wall s':>7} {'peak MiB':>8} {'exit':>4} record tb  stopped / lead")
        worst_wall, worst_rss, all_good = 0.0, 0.0, True
        with ThreadPoolExecutor(max_workers=args.at_once) as pool:
            for mode, done, record in pool.map(lambda m: one(m, work), modes):
                traceback = "Traceback" in done.stderr + done.stdout
                run = record.get("run", {}) if record else {}
                assert isinstance(run, dict)
                print(
                    f"{mode:<24} {done.seconds:7.1f} {done.peak_rss_mib:8.0f} {done.code:4d} "
                    f"{'yes' if record else 'NO':<6} {'YES' if traceback else 'no':<3} "
                    f"{run.get('stopped') or first_problem(record)}",
                    flush=True,
                )
                worst_wall = max(worst_wall, done.seconds)
                worst_rss = max(worst_rss, done.peak_rss_mib)
                good = done.code == 1 and record is not None and not traceback
                all_good = all_good and good and done.seconds < 60 and done.peak_rss_mib < 400
        verdict = "every row holds" if all_good else "SOME ROW DOES NOT HOLD"
        print(f"worst wall {worst_wall:.1f} s, worst peak RSS {worst_rss:.0f} MiB: {verdict}")


if __name__ == "__main__":
    main()
