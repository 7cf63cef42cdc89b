"""The transport's manners: retries on 429/503 honouring Retry-After, caps, redaction, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mockserver.background import serve_in_thread
from suites.profile import Budget, Limits
from suites.redact import MASK, Redactor
from suites.transport import BudgetExceeded, RateLimiter, Transport, retry_after

KEY = "sk-relaykit-transport-secret-0123456789"
SEEN: list[dict[str, str]] = []


async def flaky(request: Request) -> JSONResponse:
    SEEN.append(dict(request.headers))
    if len(SEEN) % 3 != 0:
        status = 429 if request.path_params["kind"] == "limit" else 503
        return JSONResponse({"error": {"message": "slow down"}}, status, {"retry-after": "0"})
    return JSONResponse({"ok": True, "echo": request.headers.get("authorization", "")})


async def forever(request: Request) -> JSONResponse:
    return JSONResponse({"error": {"message": "busy"}}, 429, {"retry-after": "3600"})


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    app = Starlette(routes=[Route("/flaky/{kind}", flaky), Route("/forever", forever)])
    with serve_in_thread(app) as base:
        yield base


def transport(url: str, **kw: object) -> Transport:
    limits = Limits(rps=0, retries=int(kw.pop("retries", 2)))  # type: ignore[call-overload]
    return Transport(url, KEY, limits, Budget(**kw))  # type: ignore[arg-type]


def test_retries_honour_retry_after_and_are_bounded(url: str) -> None:
    SEEN.clear()
    t = transport(url)
    exchange = t.send(t.build("GET", "/flaky/limit"))
    assert exchange.status == 200 and exchange.retries == 2
    assert t.spend.requests == 3  # every retry is a request the budget pays for
    SEEN.clear()
    short = transport(url, retries=1)
    assert short.send(short.build("GET", "/flaky/busy")).status == 503


def test_a_retry_after_too_long_is_not_waited_for(url: str) -> None:
    t = transport(url)
    started = time.monotonic()
    exchange = t.send(t.build("GET", "/forever"))
    assert exchange.status == 429 and exchange.retries == 0
    assert time.monotonic() - started < 60  # a generous bound: it did not wait an hour


def test_the_budget_stops_sending_before_the_cap(url: str) -> None:
    SEEN.clear()
    t = transport(url, requests=1, retries=0)
    t.send(t.build("GET", "/flaky/limit"))
    with pytest.raises(BudgetExceeded, match="requests"):
        t.send(t.build("GET", "/flaky/limit"))
    assert len(SEEN) == 1
    paid = transport(url, paid_media_calls=0)
    with pytest.raises(BudgetExceeded, match="paid media"):
        paid.send(paid.build("GET", "/flaky/limit"), paid_calls=1)


def test_requests_in_findings_are_redacted(url: str) -> None:
    t = transport(url)
    request = t.build("GET", "/flaky/limit?key=" + KEY, schemes=("mj-api-secret",))
    described = t.describe(request)
    assert KEY not in str(described)
    assert described["headers"]["mj-api-secret"] == MASK
    assert "key=%5BREDACTED%5D" in described["url"] or f"key={MASK}" in described["url"]


def test_a_dead_relay_is_an_exchange_with_an_error_not_an_exception() -> None:
    t = Transport("http://127.0.0.1:9", KEY, Limits(rps=0, timeout=2), Budget())
    exchange = t.send(t.build("GET", "/v1/models"))
    assert exchange.status is None and "Connect" in exchange.error


def test_redactor_masks_keys_tokens_and_queries() -> None:
    r = Redactor([KEY])
    assert r.text(f"token {KEY} and Bearer abcdefghijkl") == f"token {MASK} and Bearer {MASK}"
    assert r.headers({"Authorization": "Bearer x", "Accept": "a"}) == {
        "Authorization": MASK,
        "Accept": "a",
    }
    assert MASK not in r.url("http://h/p?page=2") and "page=2" in r.url("http://h/p?page=2")


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after("2") == 2.0
    assert retry_after(None) is None and retry_after("soon") is None
    later = retry_after("Wed, 21 Oct 2099 07:28:00 GMT")
    assert later is not None and later > 0


def test_rate_limiter_spaces_sends() -> None:
    limiter = RateLimiter(rps=50)
    started = time.monotonic()
    for _ in range(6):
        limiter.wait()
    assert time.monotonic() - started >= 5 / 50 * 0.9  # a lower bound the limiter guarantees
