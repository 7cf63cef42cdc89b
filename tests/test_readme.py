"""Every README example marked `readme-test` runs, against a real `relaykit serve`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.serving import relaykit_serve

BLOCK = re.compile(r"<!-- readme-test: (\w+)[^>]*-->\n```\w*\n(.*?)```", re.S)


def examples() -> list[tuple[str, str]]:
    return BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_runnable_examples() -> None:
    kinds = [kind for kind, _ in examples()]
    assert kinds.count("python") >= 1 and kinds.count("sh") >= 2


@pytest.mark.parametrize(("kind", "code"), [e for e in examples() if e[0] != "none"])
def test_readme_example_runs(kind: str, code: str, tmp_path: Path) -> None:
    if kind == "pytest":  # a client developer's test file: the fixture starts its own mock
        (tmp_path / "test_readme_example.py").write_text(code, encoding="utf-8")
        cmd = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert " passed" in result.stdout and "failed" not in result.stdout
        return
    with relaykit_serve() as url:
        bindir = os.path.dirname(sys.executable)  # the venv's relaykit, activated or not
        path = bindir + os.pathsep + os.environ.get("PATH", "")
        env = {**os.environ, "RELAYKIT_URL": url, "PATH": path}
        if kind == "python":
            cmd = [sys.executable, "-c", code]
        else:
            cmd = ["bash", "-euo", "pipefail", "-c", code.replace("http://127.0.0.1:8080", url)]
        result = subprocess.run(
            cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "an example shows the user something"
    if "Prefer: code=429" in code:
        assert "rate_limit_exceeded" in result.stdout


def test_the_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"<!-- readme-test: none[^>]*-->\n```sh\n(.*?)\n```", readme, re.S)
    assert command is not None
    assert command.group(1) in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
