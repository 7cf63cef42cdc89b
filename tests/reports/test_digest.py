"""The shared reading of a record: pairs and their verdicts, families, percentiles."""

from __future__ import annotations

from reports.digest import check_family, count, pairs, percentile, xml_safe
from suites.findings import Outcome
from tests.reports.sample import broken_record


def test_pairs_agree_with_the_record_verdicts() -> None:
    record = broken_record()
    got = {(p.operation_id, p.check_id): p.outcome for p in pairs(record)}
    assert got == record.verdicts()
    assert count(got.values()) == record.summary()


def test_lead_is_the_first_finding_with_the_verdict() -> None:
    pair = next(p for p in pairs(broken_record()) if p.check_id == "response.schema")
    assert pair.outcome is Outcome.FAIL
    assert pair.lead.source == "property#3"
    assert pair.family == "openai-chat"


def test_unknown_operation_has_a_family() -> None:
    record = broken_record()
    del record.operations["mj.imagine"]
    assert {p.family for p in pairs(record) if p.operation_id == "mj.imagine"} == {"unknown"}


def test_check_family_and_percentile() -> None:
    assert check_family("invariant.task_progress") == "invariant"
    assert check_family("plain") == "plain"
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([float(i) for i in range(101)], 0.95) == 95.0


def test_xml_safe_replaces_only_illegal_characters() -> None:
    assert xml_safe("a\x00b\tc\nd\U0001f600") == "a\ufffdb\tc\nd\U0001f600"
