"""JUnit XML read back by junitparser: counts, names, times and the evidence of failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped

from reports import junit
from suites.findings import Finding, Outcome
from tests.reports.sample import CHAT_URL, broken_record, clean_record


def _cases(xml: JUnitXml) -> dict[tuple[str, str], object]:
    return {(c.classname, c.name): c for suite in xml for c in suite}


def test_counts_read_back_by_junitparser(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(junit.render(broken_record()), "utf-8")
    xml = JUnitXml.fromfile(str(path))
    # 10 (operation, check) pairs: 2 fail, 1 error, 3 skip + 1 inconclusive reported as skipped.
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (10, 2, 1, 4)
    per_suite = {s.name: (s.tests, s.failures, s.errors, s.skipped) for s in xml}
    assert per_suite == {
        "openai-chat": (6, 2, 1, 0),
        "midjourney": (1, 0, 0, 1),
        "suno": (3, 0, 0, 3),
    }


def test_clean_run_has_no_failures() -> None:
    xml = JUnitXml.fromstring(junit.render(clean_record()).encode())
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (10, 0, 0, 3)


def test_testcase_per_pair_with_summed_time() -> None:
    cases = _cases(JUnitXml.fromstring(junit.render(broken_record()).encode()))
    case = cases[("chat.create", "response.schema")]
    assert abs(case.time - 0.32) < 1e-9  # two requests: 0.12 + 0.2
    assert [type(r) for r in case.result] == [Failure]


def test_failure_carries_first_failing_message_request_and_excerpt() -> None:
    cases = _cases(JUnitXml.fromstring(junit.render(broken_record()).encode()))
    (failure,) = cases[("chat.create", "response.schema")].result
    assert failure.message == "[breaks-clients] choices.0.message: 'content' is a required property"
    assert f"POST {CHAT_URL}" in failure.text
    assert "-> 200" in failure.text
    assert '"id":"chatcmpl-2"' in failure.text
    assert "1 of 2 finding(s)" in failure.text


def test_error_skip_and_inconclusive_say_what_they_are() -> None:
    cases = _cases(JUnitXml.fromstring(junit.render(broken_record()).encode()))
    (error,) = cases[("chat.create", "negative.malformed_json")].result
    assert isinstance(error, Error)
    assert error.message == "transport: ReadTimeout after 30 s"
    assert "ReadTimeout" in error.text
    (skip,) = cases[("suno.lyrics", "response.schema")].result
    assert isinstance(skip, Skipped)
    assert skip.message == "skip: budget: paid media calls (0 allowed)"
    (unsure,) = cases[("mj.imagine", "task.lifecycle")].result
    assert isinstance(unsure, Skipped)
    assert unsure.message == "inconclusive (not a pass): task still IN_PROGRESS after 300 s"
    assert cases[("chat.create", "auth.no_key")].is_passed


def test_control_characters_in_an_excerpt_still_parse() -> None:
    record = broken_record()
    record.findings.append(
        Finding(
            "chat.create",
            "response.json",
            Outcome.FAIL,
            "body is not JSON\x00",
            "x",
            response={"status": 200, "headers": {}, "excerpt": "\x00\x01binary\x1b"},
        )
    )
    xml = JUnitXml.fromstring(junit.render(record).encode())
    assert (xml.tests, xml.failures) == (11, 3)
    (failure,) = _cases(xml)[("chat.create", "response.json")].result
    assert "binary" in failure.text


def _properties(element: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in element.findall("properties/property")}


def test_failures_say_their_severity_and_the_cause_they_share() -> None:
    record = broken_record()
    for i in range(3):
        note = "a key the relay cannot know: answered 400, expected 401 or 403"
        record.findings.append(Finding(f"chat.op{i}", "auth.wrong_key", Outcome.FAIL, note))
    record.findings.append(
        Finding("chat.create", "errors.envelope", Outcome.FAIL, "the 400 body breaks it at x")
    )
    text = junit.render(record)
    cases = _cases(JUnitXml.fromstring(text.encode()))
    (failure,) = cases[("chat.op1", "auth.wrong_key")].result
    assert failure.message.startswith("[breaks-clients] a key the relay cannot know")
    assert "severity: breaks-clients" in failure.text
    assert "cause: auth.wrong_key on 3 operation(s) (chat.op0, chat.op1, chat.op2)" in failure.text
    (deviates,) = cases[("chat.create", "errors.envelope")].result
    assert deviates.message == "[deviates] the 400 body breaks it at x"
    root = ET.fromstring(text.split("\n", 1)[1])
    case = root.find(".//testcase[@classname='chat.op2'][@name='auth.wrong_key']")
    assert case is not None
    assert _properties(case) == {
        "severity": "breaks-clients",
        "cause": "auth.wrong_key: a key the relay cannot know: answered 400, expected 401 or 403",
        "cause.operations": "3",
    }
    passed = root.find(".//testcase[@classname='chat.create'][@name='auth.no_key']")
    assert passed is not None and _properties(passed) == {}


def test_each_suite_carries_its_family_score_and_the_run_score() -> None:
    root = ET.fromstring(junit.render(broken_record()).split("\n", 1)[1])
    suite = root.find("testsuite[@name='openai-chat']")
    assert suite is not None
    props = _properties(suite)
    assert props["score.offered"] == "2" and props["score.conformant"] == "0"
    assert props["score"] == "offered 2 of 2 operations, checked 2, conformant 0 of 2 (0%)"
    assert props["score.run"].startswith("offered 5 of 5 operations, checked 3")
