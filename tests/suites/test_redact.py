"""Redaction: no key survives into what a run, a cassette or the proxy writes."""

from __future__ import annotations

import httpx
import pytest

from contracts.wire import auth
from suites.redact import MASK, Redactor

KEY = "sk-relaykit-redact-secret-0123456789"


def test_configured_keys_bearer_tokens_and_sk_keys_are_masked_in_text() -> None:
    r = Redactor([KEY, None, "abc"])  # None and too-short values are not secrets
    assert r.text(f"echo {KEY}!") == f"echo {MASK}!"
    assert r.text("Authorization: Bearer tok.en-12345") == f"Authorization: Bearer {MASK}"
    assert r.text("key sk-abcdefghijklmnopqrstu here") == f"key {MASK} here"
    assert r.text("abc stays, sk-short stays") == "abc stays, sk-short stays"


def test_the_longest_secret_is_masked_first() -> None:
    r = Redactor(["secret-1234", "secret-1234-and-more"])
    assert r.text("x secret-1234-and-more y") == f"x {MASK} y"


@pytest.mark.parametrize("header", sorted(auth.SECRET_HEADERS))
def test_every_secret_header_is_masked_whole(header: str) -> None:
    masked = Redactor().headers({header.title(): "anything at all", "Accept": "text/plain"})
    assert masked == {header.title(): MASK, "Accept": "text/plain"}


def test_each_schemes_presentation_is_masked() -> None:
    r = Redactor([KEY])
    for scheme in auth.SCHEMES:
        headers, query = auth.present(scheme, KEY), auth.present_query(scheme, KEY)
        if headers:
            assert set(r.headers(headers).values()) == {MASK}, scheme
        for name, value in query.items():
            assert r.url(f"http://relay/v1beta/models?{name}={value}").endswith(MASK), scheme


def test_other_headers_are_scrubbed_as_text() -> None:
    r = Redactor([KEY])
    assert r.headers({"X-Echo": f"got {KEY}"}) == {"X-Echo": f"got {MASK}"}


@pytest.mark.parametrize("name", sorted(auth.SECRET_QUERY))
def test_secret_query_parameters_are_masked(name: str) -> None:
    url = Redactor().url(f"http://relay/v1/models?{name}=s3cr3t&page=2")
    assert "s3cr3t" not in url and "page=2" in url and MASK in url


def test_a_url_without_query_is_scrubbed_as_text() -> None:
    assert Redactor([KEY]).url(f"http://relay/{KEY}/x") == f"http://relay/{MASK}/x"


def test_what_an_httpx_request_carries_is_clean_after_redaction() -> None:
    """The evidence of a request built the way the suites build one (in process)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"echo": request.headers["authorization"]})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        answer = client.get(
            "http://relay/v1/models?key=" + KEY, headers=auth.present("bearer", KEY)
        )
    r = Redactor([KEY])
    evidence = " ".join(
        [
            r.url(str(seen[0].url)),
            *r.headers(dict(seen[0].headers)).values(),
            r.text(answer.text),
        ]
    )
    assert KEY not in evidence and MASK in evidence
