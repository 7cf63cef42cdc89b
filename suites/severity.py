"""How much a failed check matters to the people who use the relay: one table, one lookup.

``breaks-clients``: an official SDK or a common client raises or gets wrong data (a missing
``[DONE]``, bad JSON, a wrong status class, a missing ``id``, auth not enforced, usage missing
for billing...). ``deviates``: the documents say otherwise but the SDKs tolerate it (an explicit
``null`` where a field is optional, a wrong error envelope on a status that was right...).

The exit code of ``relaykit check`` counts ``breaks-clients`` failures by default and both with
``--strict``. The README's severity table is this table (a test compares them; ``python -m
suites.severity`` prints it). A finding may carry its own ``severity`` when its judge knows better
than the check's default (a schema violation that is only an explicit ``null`` on an optional
field deviates). tests/suites/test_severity_sdk.py shows the official SDKs breaking on the core
breaks-clients checks, and where they do not.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from suites.findings import Finding, Outcome


class Severity(StrEnum):
    """What a failure of a check means for the relay's users."""

    BREAKS_CLIENTS = "breaks-clients"
    DEVIATES = "deviates"


B = Severity.BREAKS_CLIENTS
D = Severity.DEVIATES

SEVERITY = MappingProxyType(
    {
        # the answer itself
        "response.status": B,
        "response.content_type": B,
        "response.schema": B,
        "request.schema": D,
        "errors.envelope": D,
        # bad requests and keys
        "negative.malformed_json": D,
        "negative.missing_required": D,
        "negative.wrong_type": D,
        "auth.no_key": B,
        "auth.wrong_key": B,
        # stream grammar (OpenAI chat, Anthropic, OpenAI Responses)
        "sse.framing": B,
        "sse.terminator": B,
        "sse.event_schema": B,
        "sse.finish_reason": B,
        "sse.usage_chunk": B,
        "sse.tool_arguments": B,
        "sse.event_order": B,
        "sse.stop_reason": B,
        "sse.tool_input": B,
        "sse.usage": B,
        "sse.sequence_numbers": B,
        "sse.text_deltas": B,
        "sse.role_first": D,
        "sse.consistent_ids": D,
        "sse.streamed": D,
        # Gemini's stream grammar (SSE with ?alt=sse, or the JSON array)
        "gemini.framing": B,
        "gemini.event_schema": B,
        "gemini.finish_reason": B,
        "gemini.usage": B,
        "gemini.consistent_ids": D,
        # request-response invariants
        "invariant.choices_len_n": B,
        "invariant.usage_total": B,
        "invariant.max_tokens_respected": B,
        "invariant.finish_length_when_cut": B,
        "invariant.stop_absent": B,
        "invariant.tool_calls_present": B,
        "invariant.tool_args_match_schema": B,
        "invariant.json_content_parses": B,
        "invariant.json_schema_content_valid": B,
        "invariant.audio_present": B,
        "invariant.image_count_matches_n": B,
        "invariant.embedding_count_matches_input": B,
        "invariant.embedding_dimensions": B,
        "invariant.speech_format_matches": B,
        "invariant.gemini_usage_total": B,
        "invariant.gemini_max_output_tokens": B,
        "invariant.gemini_response_schema": B,
        "invariant.gemini_function_args": B,
        "invariant.gemini_candidate_count": B,
        "invariant.transcript_format_matches": B,
        "invariant.reasoning_tokens_reported": D,
        "invariant.image_size_matches": D,
        "invariant.model_listed": D,
        "invariant.responses_usage_total": B,
        "invariant.max_output_tokens_respected": B,
        "invariant.incomplete_when_cut": B,
        "invariant.responses_json_schema_valid": B,
        "invariant.responses_tool_args_match_schema": B,
        # task lifecycles
        "invariant.task_id_returned": B,
        "invariant.task_states_legal": B,
        "invariant.task_reaches_terminal": B,
        "invariant.task_result_urls_reachable": B,
        "invariant.task_queryable_at_once": D,
        "invariant.task_progress_monotonic": D,
        "invariant.list_contains_submitted": D,
        # generated requests
        "schemathesis": D,
        "examples": D,
        "property": D,
        "negative": D,
    }
)
"""Every check id the suites emit, with its default severity."""

WHY = MappingProxyType(
    {
        B: "an official SDK or a common client raises or gets wrong data",
        D: "the documents say otherwise, but the SDKs tolerate it",
    }
)


def severity_of(finding: Finding) -> Severity:
    """The finding's own severity if its judge set one, else its check's (unknown: deviates)."""
    if finding.severity:
        return Severity(finding.severity)
    return SEVERITY.get(finding.check_id, Severity.DEVIATES)


def counts_for_exit(finding: Finding, strict: bool) -> bool:
    """True when this failed finding fails the run: breaks-clients always, deviates if strict."""
    return strict or severity_of(finding) is Severity.BREAKS_CLIENTS


def counts_against(finding: Finding, strict: bool) -> bool:
    """True when this finding fails the run (and its operation is not conformant): an error; a
    failure that counts for the exit and is not the consequence of another failure on the same
    request (the root is counted instead, once)."""
    if finding.outcome is Outcome.ERROR:
        return True
    return (
        finding.outcome is Outcome.FAIL
        and not finding.consequence_of
        and counts_for_exit(finding, strict)
    )


def markdown_table() -> str:
    """The README's severity table: one row per severity, with every check id that has it."""
    lines = ["| severity | meaning | checks |", "|---|---|---|"]
    for severity in Severity:
        ids = ", ".join(f"`{c}`" for c, s in sorted(SEVERITY.items()) if s is severity)
        lines.append(f"| `{severity.value}` | {WHY[severity]} | {ids} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - prints the README's table
    print(markdown_table(), end="")
