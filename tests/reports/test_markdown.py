"""The Markdown summary: a stored snapshot, escaping, and the bound on listed failures.

Regenerate the snapshot after an intended change with ``RELAYKIT_UPDATE_SNAPSHOTS=1``.
"""

from __future__ import annotations

import os
from pathlib import Path

from reports import markdown
from suites.findings import Finding, Outcome
from tests.reports.sample import broken_record, clean_record

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _matches_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("RELAYKIT_UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, "utf-8")
    assert path.is_file(), f"missing snapshot {path}: run with RELAYKIT_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text("utf-8"), f"{name} differs from its snapshot"


def test_broken_run_snapshot() -> None:
    _matches_snapshot("summary_broken.md", markdown.render(broken_record()))


def test_clean_run_snapshot() -> None:
    _matches_snapshot("summary_clean.md", markdown.render(clean_record()))


def test_record_text_cannot_inject_markdown_or_html() -> None:
    record = broken_record()
    record.findings[1].message = "bad | cell <img src=x onerror=alert(1)> **bold** `tick`"
    text = markdown.render(record)
    assert "bad \\| cell &lt;img src=x onerror=alert(1)&gt; \\*\\*bold\\*\\* \\`tick\\`" in text
    assert "<img" not in text


def test_failures_are_bounded_and_counted() -> None:
    record = broken_record()
    record.findings += [
        Finding(f"op{i}", "response.schema", Outcome.FAIL, f"broken {i}") for i in range(60)
    ]
    text = markdown.render(record)
    assert "### Failures and errors (63), first 50" in text
    assert "… and 13 more" in text
    assert "broken 46" in text and "broken 47" not in text


def test_empty_run_says_so() -> None:
    record = broken_record()
    record.findings = []
    assert "No check ran." in markdown.render(record)
