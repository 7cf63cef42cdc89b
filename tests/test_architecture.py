"""ARCHITECTURE.md's one-way imports, held by parsing the imports of every module.

``contracts`` imports none of the others (and ``contracts/wire`` nothing of relaykit but
itself); ``mockserver`` and ``suites`` import ``contracts`` and never each other; ``reports``
reads only the run record (``suites.record``, ``suites.findings``, and the pure ``severity``,
``causes`` and ``score`` the record is derived with); ``relaykit/`` (the CLI)
may import them all. Every import counts, a lazy one inside a function too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

ROOMS = ("contracts", "mockserver", "suites", "reports", "relaykit")
RECORD = ("suites.record", "suites.findings", "suites.severity", "suites.causes", "suites.score")
"""What reports may read of the suites: the run record's format, and the pure modules the record
computes its derived blocks with (severity, causes, score)."""


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path, path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in a file; ``from pkg import mod`` names ``pkg.mod``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module_name(root, path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                head = package[: len(package) - node.level + 1]
                base = ".".join([*head, base] if base else head)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                is_module = (root / Path(*sub.split("."))).with_suffix(".py").is_file() or (
                    root / Path(*sub.split(".")) / "__init__.py"
                ).is_file()
                yield node.lineno, sub if is_module else base


def rule(source: str, target: str) -> str | None:
    """Why ``source`` may not import ``target``; None when it may."""
    room, into = source.split(".")[0], target.split(".")[0]
    if into not in ROOMS:
        return None  # the standard library and third-party packages
    if source == "contracts.wire" or source.startswith("contracts.wire."):
        ok = target == "contracts.wire" or target.startswith("contracts.wire.")
        return None if ok else "contracts/wire imports nothing of relaykit but itself"
    if into == room or room == "relaykit":
        return None
    if room == "contracts":
        return "contracts imports none of the other rooms"
    if room in ("mockserver", "suites"):
        return None if into == "contracts" else f"{room} imports only contracts"
    if room == "reports":
        ok = any(target == r or target.startswith(r + ".") for r in RECORD)
        return None if ok else "reports reads only the run record (suites.record, ...)"
    return None


def violations(root: Path) -> list[str]:
    """Every import that breaks a rule, as ``file:line: source imports target (rule)``."""
    found = []
    for room in ROOMS:
        for path in sorted((root / room).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            source = module_name(root, path)
            for line, target in dict.fromkeys(imports(root, path)):
                why = rule(source, target)
                if why:
                    found.append(f"{rel}:{line}: {source} imports {target} ({why})")
    return found


def test_the_packages_hold_the_import_rules() -> None:
    assert violations(ROOT) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for room in ROOMS:
        (tmp_path / room).mkdir(parents=True, exist_ok=True)
        (tmp_path / room / "__init__.py").write_text("", encoding="utf-8")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"contracts/model.py": "import json\nfrom mockserver.app import x\n"},
            "contracts/model.py:2: contracts.model imports mockserver.app "
            "(contracts imports none of the other rooms)",
        ),
        (
            {"mockserver/app.py": "def f():\n    import suites.runner\n"},
            "mockserver/app.py:2: mockserver.app imports suites.runner "
            "(mockserver imports only contracts)",
        ),
        (
            {"suites/x.py": "from ..mockserver import app\n", "mockserver/app.py": ""},
            "suites/x.py:1: suites.x imports mockserver.app (suites imports only contracts)",
        ),
        (
            {
                "reports/html.py": "from suites import record, runner\n",
                "suites/record.py": "",
                "suites/runner.py": "",
            },
            "reports/html.py:1: reports.html imports suites.runner "
            "(reports reads only the run record (suites.record, ...))",
        ),
        (
            {"contracts/wire/sse.py": "from contracts.model import Operation\n"},
            "contracts/wire/sse.py:1: contracts.wire.sse imports contracts.model "
            "(contracts/wire imports nothing of relaykit but itself)",
        ),
    ],
)
def test_a_back_arrow_fails_with_its_file_and_line(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    assert violations(_tree(tmp_path, files)) == [expected]


def test_the_allowed_arrows_pass(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "contracts/wire/sse.py": "from contracts.wire import mediatype\n",
            "contracts/wire/mediatype.py": "",
            "contracts/model.py": "from contracts.wire import sse\nimport yaml\n",
            "mockserver/app.py": "from contracts.model import Operation\nfrom . import x\n",
            "suites/record.py": "from contracts import model\n",
            "suites/findings.py": "",
            "reports/html.py": "from suites.record import RunRecord\nfrom suites import findings\n",
            "relaykit/cli.py": "import mockserver.app, suites.record, reports.html\n",
        },
    )
    assert violations(root) == []
