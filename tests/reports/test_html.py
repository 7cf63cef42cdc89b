"""The HTML report: self-contained, everything escaped, matrix and details present, bounded size."""

from __future__ import annotations

import re

from reports import html
from suites.findings import Finding, Outcome
from tests.reports.sample import HOSTILE, broken_record


def test_matrix_has_a_cell_per_family_and_check_family() -> None:
    page = html.render(broken_record())
    start = page.index('<table id="matrix">')
    matrix = page[start : page.index("</table>", start)]
    assert re.findall(r'data-family="([^"]+)" data-cfam="([^"]+)"', matrix) == [
        ("midjourney", "task"),
        ("openai-chat", "auth"),
        ("openai-chat", "invariant"),
        ("openai-chat", "negative"),
        ("openai-chat", "response"),
        ("openai-chat", "sse"),
        ("suno", "response"),
        ("suno", "task"),
    ]
    cell = re.search(r'class="cell o-(\w+)" data-family="openai-chat" data-cfam="response"', matrix)
    assert cell is not None and cell.group(1) == "fail"


def test_summary_counts_and_run_info() -> None:
    page = html.render(broken_record())
    for text in ("pass: 3", "fail: 2", "error: 1", "skip: 3", "inconclusive: 1"):
        assert text in page
    assert "relay.example" in page and "2025-01-02T03:04:05Z" in page


def test_every_finding_has_its_detail_and_evidence() -> None:
    page = html.render(broken_record())
    assert page.count('<details class="finding"') == len(broken_record().findings)
    assert "choices.0.message: &#39;content&#39; is a required property" in page
    assert "POST https://relay.example/v1/chat/completions" in page
    assert "status 200\ncontent-type: application/json" in page and "ReadTimeout" in page
    assert "property#3" in page and "elapsed 200.0 ms" in page


def test_hostile_excerpt_is_escaped() -> None:
    page = html.render(broken_record())
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page
    assert page.count("<script") == 1  # the report's own, nothing from the record


def test_stream_timeline_in_ms_shared_by_the_findings_of_one_request() -> None:
    page = html.render(broken_record())
    assert "stream timeline (3 events)" in page
    for at, gap in (("12.1", ""), ("34.5", "22.4"), ("56.2", "21.7")):
        assert f"<tr><td>{at}</td><td>{gap}</td>" in page
    # Two stream findings, one request: one timeline rendered, referenced twice.
    assert page.count("stream timeline (") == 1
    ev = re.findall(
        r'data-ev="(\d+)"><summary><span class="badge o-\w+">\w+</span> '
        r"<code>example:stream</code>",
        page,
    )
    assert len(ev) == 2 and ev[0] == ev[1]


def test_self_contained() -> None:
    page = html.render(broken_record())
    assert "<link" not in page
    assert not re.search(r"\bsrc=", page)
    assert "@import" not in page


def test_two_thousand_findings_stay_a_few_megabytes() -> None:
    record = broken_record()
    timeline = [
        {"at": i / 100, "event": "", "data": '{"choices":[{"delta":{"content":"word"}}]}' * 3}
        for i in range(200)
    ]
    # 200 requests, ten checks each; one request in ten is a stream with a full 200-event timeline.
    for i in range(2000):
        request = i // 10
        record.findings.append(
            Finding(
                f"op{request}",
                f"check.rule{i % 10}",
                Outcome.FAIL if i % 7 else Outcome.PASS,
                f"rule {i} broke",
                f"example:{request}",
                request={
                    "method": "POST",
                    "url": f"https://r/x/{request}",
                    "headers": {},
                    "body": "b" * 1500,
                },
                response={"status": 200, "headers": {}, "excerpt": f"{request}" + "e" * 2000},
                timings={"elapsed": 0.5},
                events=timeline if request % 10 == 0 else [],
            )
        )
    size = len(html.render(record).encode())
    assert size < 5_000_000, size
