"""Keep keys out of everything a run writes: headers, query strings and bodies.

Redaction happens before a request or response is stored in a finding, so the run record, the
reports rendered from it and any log are clean by construction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from contracts.wire.auth import SECRET_HEADERS, SECRET_QUERY

MASK = "[REDACTED]"
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}")
_SK = re.compile(r"\bsk-[A-Za-z0-9_-]{16,}")


class Redactor:
    """Masks the configured keys and anything that looks like a credential."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        """A string with every configured key, bearer token and sk- key masked."""
        for secret in self.secrets:
            value = value.replace(secret, MASK)
        value = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", value)
        return _SK.sub(MASK, value)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Headers with secret ones masked whole and the rest scrubbed as text."""
        return {
            k: (MASK if k.lower() in SECRET_HEADERS else self.text(v)) for k, v in headers.items()
        }

    def url(self, url: str) -> str:
        """A URL whose secret query parameters are masked."""
        parts = urlsplit(url)
        if not parts.query:
            return self.text(url)
        pairs = [
            (k, MASK if k.lower() in SECRET_QUERY else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ]
        return self.text(urlunsplit(parts._replace(query=urlencode(pairs, safe="[]"))))
