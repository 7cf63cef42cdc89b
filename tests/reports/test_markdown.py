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


def test_causes_are_bounded_and_counted() -> None:
    record = broken_record()
    record.findings += [
        Finding(f"op{i}", f"rule.r{i}", Outcome.FAIL, f"broken {i}") for i in range(60)
    ]
    text = markdown.render(record)
    assert "### Causes (63) of 63 failed or errored checks, first 50" in text
    assert "… and 13 more" in text
    assert "broken 46" in text and "broken 47" not in text


def test_one_answer_on_many_operations_is_one_line() -> None:
    record = broken_record()
    note = "a key the relay cannot know: answered 400, expected 401 or 403"
    record.findings += [Finding(f"op{i}", "auth.wrong_key", Outcome.FAIL, note) for i in range(39)]
    text = markdown.render(record)
    rows = [
        line for line in text.splitlines() if "auth.wrong\\_key" in line or "auth.wrong_key" in line
    ]
    assert rows == [
        "| ❌ breaks-clients | `auth.wrong_key` | 39: `op0`, `op1`, `op2`, `op3`, `op4` and 34 "
        f"more | {note} |"
    ]
    assert text.index("auth.wrong_key") < text.index("response.schema")  # most operations first


def test_the_score_line_and_its_family_columns() -> None:
    text = markdown.render(broken_record())
    assert "**Score:** offered 5 of 5 operations, checked 3, conformant 0 of 5 (0%)" in text
    assert "> 2 offered operation(s) were not checked" in text
    assert "| openai-chat | 3 | 2 | 1 | 0 | 0 | 2 of 2 | 0 of 2 |" in text


def test_empty_run_says_so() -> None:
    record = broken_record()
    record.findings = []
    assert "No check ran." in markdown.render(record)
