"""Run directories: ``<root>/<run name or UTC timestamp>/`` with the four files, and ``latest``.

The record is redacted upstream; before anything is written, every rendered text is searched
for the secrets given (as written, HTML-escaped and JSON-escaped), and a hit refuses the write.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from reports import html as html_report
from reports import junit, markdown
from suites.record import RunRecord, load_record

RECORD = "record.json"
FILES = {
    "junit": "junit.xml",
    "html": "report.html",
    "markdown": "summary.md",
}
RENDERERS: dict[str, Callable[[RunRecord], str]] = {
    "junit": junit.render,
    "html": html_report.render,
    "markdown": markdown.render,
}
LATEST = "latest"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class SecretLeak(Exception):
    """A rendered file would contain a configured secret; the message names the file, not it."""


def new_run_dir(root: Path, name: str | None, now: datetime | None = None) -> Path:
    """Create and return ``root/<name or YYYYmmdd-HHMMSS (UTC)>``, suffixed -2, -3... if taken."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    base = _UNSAFE.sub("-", name or "").strip(".-") or stamp
    root.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        candidate = root / (base if n == 1 else f"{base}-{n}")
        if candidate.name == LATEST or candidate.is_symlink():
            continue
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{root}: no free run directory name for {base!r}")


def write_all(
    record: RunRecord,
    run_dir: Path,
    secrets: Iterable[str | None] = (),
    update_latest: bool = True,
) -> dict[str, Path]:
    """Write record.json, junit.xml, report.html and summary.md; point ``latest`` at the dir.

    Raises SecretLeak, before writing any file, when a rendered text contains a secret.
    """
    keys = _secrets(secrets)
    texts = {"record": json.dumps(record.to_json(), indent=1, ensure_ascii=False)}
    texts.update({kind: render(record) for kind, render in RENDERERS.items()})
    for kind, text in texts.items():
        if _leaks(text, keys):
            name = FILES.get(kind, RECORD)
            raise SecretLeak(f"{name}: a configured secret would be written; nothing written")
    run_dir.mkdir(parents=True, exist_ok=True)
    written = {"record": record.write(run_dir / RECORD)}
    # Belt over braces: what record.write put on disk is read back, not assumed.
    if _leaks(written["record"].read_text("utf-8"), keys):
        written["record"].unlink()
        raise SecretLeak(f"{RECORD}: a configured secret was written; file removed")
    for kind, filename in FILES.items():
        written[kind] = _write_atomic(run_dir / filename, texts[kind])
    if update_latest:
        written["latest"] = point_latest(run_dir)
    return written


def point_latest(run_dir: Path) -> Path:
    """Make ``<parent>/latest`` a relative symlink to ``run_dir``, else a file naming it."""
    latest = run_dir.parent / LATEST
    tmp = run_dir.parent / f".{LATEST}.{os.getpid()}.tmp"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_dir.name, target_is_directory=True)
        os.replace(tmp, latest)
    except (OSError, NotImplementedError):
        tmp.unlink(missing_ok=True)
        _write_atomic(latest, run_dir.name + "\n")
    return latest


def resolve_record(path: Path) -> Path:
    """The record file meant by ``path``: a record.json, a run dir, or a ``latest`` pointer."""
    if path.is_file() and path.name == LATEST:
        target = path.read_text("utf-8").strip()
        if not target or "/" in target or target in (".", ".."):
            raise ValueError(f"{path}: not a run pointer")
        path = path.parent / target
    if path.is_dir():
        path = path / RECORD
    if not path.is_file():
        raise ValueError(f"{path}: no such run record")
    return path


def load(path: Path) -> RunRecord:
    """The run record at ``path`` (see resolve_record); ValueError with a one-line reason."""
    return load_record(resolve_record(path))


def scan_for_secrets(
    paths: Iterable[Path], secrets: Iterable[str | None]
) -> list[tuple[Path, str]]:
    """Every (file, secret) where a file under ``paths`` contains a secret in any spelling."""
    keys = _secrets(secrets)
    hits: list[tuple[Path, str]] = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            data = file.read_bytes()
            hits += [(file, key) for key in keys if any(v in data for v in _spellings(key))]
    return hits


def _secrets(secrets: Iterable[str | None]) -> list[str]:
    # Under four characters a "secret" matches ordinary text; the redactor ignores those too.
    return sorted({s for s in secrets if s and len(s) >= 4})


def _spellings(secret: str) -> set[bytes]:
    """The secret as each renderer could spell it."""
    forms = {secret, html.escape(secret), html.escape(secret, quote=False)}
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    forms.add(json.dumps(secret)[1:-1])
    return {f.encode("utf-8") for f in forms}


def _leaks(text: str, keys: list[str]) -> bool:
    data = text.encode("utf-8")
    return any(v in data for key in keys for v in _spellings(key))


def _write_atomic(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)
    return path
