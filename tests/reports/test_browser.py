"""The HTML report in a real browser: headless Chromium (Debian's package) driven by playwright.

The screenshot is saved as ``report-browser.png`` in the directory named by the environment
variable ``RELAYKIT_ARTEFACTS`` when it is set (CI keeps it), else in the test's ``tmp_path``.
Without Chromium this test fails, on purpose: ``.ci/run`` installs it (``apt-get install
chromium``); point ``RELAYKIT_CHROMIUM`` at another binary to use that one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from reports import html
from tests.reports.sample import HOSTILE, broken_record

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = os.environ.get("RELAYKIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.fail(
            f"Chromium not found at {path}: install Debian's package (apt-get install chromium), "
            "as .ci/run does, or set RELAYKIT_CHROMIUM"
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module, on Debian's binary (no browser download)."""
    executable = _chromium()
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture()
def page(browser: Browser, tmp_path: Path) -> Iterator[Page]:
    """The broken run's report opened from a file:// URL; page errors and dialogs are recorded."""
    report = tmp_path / "report.html"
    report.write_text(html.render(broken_record()), "utf-8")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    opened.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    opened.goto(report.as_uri())
    yield opened
    context.close()
    assert problems == [], problems


def _artefact(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("RELAYKIT_ARTEFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "report-browser.png"


def test_matrix_filter_and_failure_detail(page: Page, tmp_path: Path) -> None:
    expect(page.locator("#matrix")).to_be_visible()
    cell = page.locator('#matrix button[data-family="openai-chat"][data-cfam="sse"]')
    expect(cell).to_be_visible()
    expect(cell).to_contain_text("fail")
    expect(cell).to_contain_text("1 pass · 1 fail")
    rows = page.locator("#verdicts tbody tr")
    expect(rows.locator("visible=true")).to_have_count(10)

    cell.click()
    expect(rows.locator("visible=true")).to_have_count(2)
    expect(page.locator("#shown")).to_have_text("2 of 10 shown")
    row = rows.filter(has_text="sse.terminator")
    detail = row.locator("details.finding")
    expect(detail).to_be_hidden()  # closed until asked for

    row.locator("details.pair > summary").click()
    expect(detail.locator(".fmsg")).to_have_text("no data: [DONE] after the last chunk")
    expect(detail.locator("table.events")).to_be_visible()
    expect(detail.locator("table.events tbody tr")).to_have_count(3)
    expect(detail.locator("table.events tbody tr").first).to_contain_text("12.1")
    page.screenshot(path=str(_artefact(tmp_path)), full_page=True)
    assert _artefact(tmp_path).stat().st_size > 0


def test_failing_finding_shows_message_and_escaped_excerpt(page: Page) -> None:
    page.locator("#f-family").select_option("openai-chat")
    for box in page.locator(".f-outcome").all():
        if box.get_attribute("value") != "fail":
            box.uncheck()
    shown = page.locator("#verdicts tbody tr").locator("visible=true")
    expect(shown).to_have_count(2)
    row = shown.filter(has_text="response.schema")
    row.locator("details.pair > summary").click()
    findings = row.locator("details.finding")
    expect(findings).to_have_count(2)
    failing = findings.filter(has_text="property#3")
    failing.locator("summary").click()
    expect(failing.locator(".fmsg")).to_have_text(
        "choices.0.message: 'content' is a required property"
    )
    excerpt = failing.locator("pre.excerpt")
    expect(excerpt).to_be_visible()
    expect(excerpt).to_contain_text(HOSTILE)  # shown as text, never run
    expect(failing.locator("pre.req")).to_contain_text(
        "POST https://relay.example/v1/chat/completions"
    )
