"""`relaykit serve` and its workers import what serving needs, not the suites or the reports.

Each case runs in a fresh interpreter: `relaykit serve` up to the moment it hands the app to
uvicorn (uvicorn.run is replaced by one that lists the imported packages), and a worker's
entry point, ``mockserver.asgi:app_from_env``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

NOT_FOR_SERVING = {
    "suites",
    "reports",
    "hypothesis",
    "schemathesis",
    "rich",
    "pygments",
    "jinja2",
    "junitparser",
    "httpx",
}

SERVE = """
import json, sys, uvicorn
def run(app, **kwargs):
    print(json.dumps({"packages": sorted({m.split(".")[0] for m in sys.modules}),
                      "modules": sorted(sys.modules),
                      "factory": kwargs.get("factory"), "app": str(type(app))}))
uvicorn.run = run
from relaykit.cli import main
main(["serve", "--port", "0", "--workers", sys.argv[1]], standalone_mode=False)
"""

WORKER = """
import json, sys
from mockserver.asgi import app_from_env
app = app_from_env()
print(json.dumps({"packages": sorted({m.split(".")[0] for m in sys.modules}),
                  "modules": sorted(sys.modules), "app": str(type(app))}))
"""


def run(code: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    found: dict[str, Any] = json.loads(line)
    return found


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_imports_nothing_of_the_suites(workers: str) -> None:
    found = run(SERVE, workers)
    packages = set(found["packages"])
    assert packages & NOT_FOR_SERVING == set()
    if workers == "1":  # one worker: the app is served from the command's own process
        assert found["factory"] is False
        assert "mockserver.app" in found["modules"]
    else:  # the supervisor only starts workers; they build the app from the environment
        assert found["factory"] is True
        assert "mockserver.app" not in found["modules"]


def test_a_worker_imports_nothing_of_the_suites() -> None:
    found = run(WORKER)
    assert set(found["packages"]) & NOT_FOR_SERVING == set()
    assert "JournalMiddleware" in str(found["app"])  # the served stack, journal outermost


def test_a_start_on_cached_contracts_does_not_import_the_loader() -> None:
    run(WORKER)  # fills the contract cache (conftest: this session's own directory)
    found = run(WORKER)
    assert "contracts.loader" not in found["modules"]
    assert set(found["packages"]) & {"jsonschema", "yaml", "referencing"} == set()
