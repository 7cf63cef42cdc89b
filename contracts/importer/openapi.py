"""An OpenAPI 3.0 / 3.1 document read into draft operations.

Each method of each path is one draft: its parameters (path, query, the auth headers), the
request body (JSON, multipart), the first success response (JSON, SSE or other), the error
responses, and every example the document gives, standard or in code samples (curl). Schemas
are inlined through ``refs.Inliner``; a reference that does not resolve is a finding.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from contracts.importer import codesamples, dialect, naming, samples
from contracts.importer.errors import SourceError
from contracts.importer.model import Document, Draft, DraftError, DraftExample, DraftStream, Finding
from contracts.importer.modes import split
from contracts.importer.refs import Inliner
from contracts.importer.shapes import as_dict
from contracts.importer.sources import Source, pointer
from contracts.wire.mediatype import media_type

METHODS = ("get", "post", "put", "patch", "delete")
JSON_TYPES = re.compile(r"^application/([a-z0-9.+-]*\+)?json$")
STREAM_TYPES = ("text/event-stream",)
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def base_path(doc: dict[str, Any]) -> str:
    """The path part of the first server URL (``https://api.openai.com/v1`` -> ``/v1``)."""
    servers = doc.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return ""
    url = str(servers[0].get("url", ""))
    for name, var in (servers[0].get("variables") or {}).items():
        if isinstance(var, dict):
            url = url.replace("{" + name + "}", str(var.get("default", "")))
    path = urlsplit(url).path if "://" in url else url
    return "/" + path.strip("/") if path.strip("/") else ""


class Reader:
    """Reads one OpenAPI 3 document; ``read()`` gives its drafts and findings."""

    def __init__(self, source: Source, data: dict[str, Any], keep: frozenset[str]) -> None:
        self.source = source
        self.doc = data
        self.legacy = not str(data.get("openapi", "3.1")).startswith("3.1")
        self.refs = Inliner(data, source.file, self.legacy, keep)
        self.base = base_path(data)
        self.schemes = (data.get("components") or {}).get("securitySchemes") or {}
        self.findings: list[Finding] = []
        self.sites: dict[str, list[str]] = {}

    def read(self) -> Document:
        """Every operation of the document as a draft."""
        info = as_dict(self.doc.get("info"))
        out = Document(
            self.source.file, self.source.format, self.source.version, str(info.get("title", ""))
        )
        paths = self.doc.get("paths", {})
        if not isinstance(paths, dict):
            raise SourceError(
                self.source.file,
                "/paths",
                f"expected a mapping of paths, got {type(paths).__name__}",
            )
        for raw_path, item in paths.items():
            where = pointer("paths", raw_path)
            item, item_where, _ = self.refs.lookup(item, where)
            if not isinstance(item, dict):
                continue
            for method in METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    self.refs.begin()
                    draft = self._operation(raw_path, method, op, item, f"{item_where}/{method}")
                    for site in self.refs.seen:
                        self.sites.setdefault(site, []).append(draft.label)
                    modes = op.get("x-relaykit-modes")
                    out.drafts.extend(split(draft, modes) if isinstance(modes, list) else [draft])
        for site, ref in self.refs.unresolved.items():
            self.findings.append(
                Finding(
                    "unresolved-ref",
                    self._users(site),
                    site,
                    f"$ref {ref!r} does not resolve; the import accepts anything there",
                )
            )
        for site, message in self.refs.bad_examples.items():
            self.findings.append(Finding("example-schema", self._users(site), site, message))
        for site, repairs in self.refs.repaired.items():
            self.findings.append(
                Finding(
                    "schema-dialect",
                    "",
                    site,
                    "; ".join(repairs) + " (read as meant)",
                    severity="warning",
                )
            )
        for site, ref in self.refs.recursive.items():
            self.findings.append(
                Finding(
                    "recursive-ref",
                    "",
                    site,
                    f"recursive $ref {ref!r} is cut where it "
                    "recurs; contracts hold no recursion, so validation is loose there",
                    severity="note",
                )
            )
        out.findings = self.findings
        return out

    def _users(self, site: str) -> str:
        users = self.sites.get(site, [])
        if not users:
            return "(no operation)"
        return users[0] + (f" and {len(users) - 1} more" if len(users) > 1 else "")

    def _operation(
        self, raw_path: str, method: str, op: dict[str, Any], item: dict[str, Any], where: str
    ) -> Draft:
        # a converter keeps a second operation on one route apart as "<path>#<where>"
        path_only, _, query_text = raw_path.split("#", 1)[0].partition("?")
        path = naming.contract_path((self.base + "/" + path_only.lstrip("/")).rstrip("/") or "/")
        tags = [str(t) for t in op.get("tags", []) if isinstance(t, str | int)]
        family = naming.family_of(tags, path_only)
        summary, description = _texts(op)
        draft = Draft(
            id=naming.operation_id(str(op.get("operationId", "")), family, method, path),
            family=family,
            method=method.upper(),
            path=path,
            pointer=where,
            summary=summary or f"{method.upper()} {path}",
            description=description,
            operation_id=str(op.get("operationId", "")),
            tags=tags,
        )
        if query_text:
            self.findings.append(
                Finding(
                    "query-in-path",
                    draft.label,
                    where.rsplit("/", 1)[0],
                    f"the path key carries a query string ({'?' + query_text}); imported as {path}",
                    severity="warning",
                )
            )
        self._parameters(draft, [*item.get("parameters", []), *op.get("parameters", [])], where)
        self._security(draft, op)
        if isinstance(op.get("requestBody"), dict):
            self._request(draft, op["requestBody"], f"{where}/requestBody")
        self._responses(draft, op.get("responses") or {}, f"{where}/responses")
        codesamples.read(draft, op, where)
        return draft

    # parameters and auth

    def _parameters(self, draft: Draft, params: list[Any], where: str) -> None:
        query: dict[str, Any] = {}
        required: list[str] = []
        for i, raw in enumerate(params):
            param, at, base = self.refs.lookup(raw, f"{where}/parameters/{i}")
            if not isinstance(param, dict):
                continue
            name, place = str(param.get("name", "")), param.get("in")
            schema = self.refs.schema(param.get("schema", {"type": "string"}), f"{at}/schema", base)
            example = param.get("example", _first_example(param.get("examples")))
            if example is not None and isinstance(schema, dict):
                schema = {**schema, "examples": [example]}
            if place == "path":
                draft.path_params[naming.param_name(name)] = schema
            elif place == "query":
                query[name] = schema
                if param.get("required"):
                    required.append(name)
            elif place == "header":
                draft.auth_headers.append(name.lower())
        if query:
            draft.query = {"type": "object", "properties": query}
            if required:
                draft.query["required"] = required

    def _security(self, draft: Draft, op: dict[str, Any]) -> None:
        security = op.get("security", self.doc.get("security"))
        for requirement in security if isinstance(security, list) else []:
            for name in requirement if isinstance(requirement, dict) else []:
                scheme, _, _ = self.refs.lookup(self.schemes.get(name), "/components")
                draft.security.append(scheme if isinstance(scheme, dict) else {"name": name})
        if isinstance(security, list) and (not security or {} in security):
            draft.security.append({"type": "none"})

    # request and responses

    def _request(self, draft: Draft, body: dict[str, Any], where: str) -> None:
        body, where, base = self.refs.lookup(body, where)
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(content, dict) or not content:
            return
        ctype = _pick(content, lambda t: bool(JSON_TYPES.match(t))) or _pick(
            content, lambda t: t in FORM_TYPES
        )
        if ctype is None:
            ctype = next(iter(content))
            self.findings.append(
                Finding(
                    "content-type",
                    draft.label,
                    f"{where}/content",
                    f"request content type {ctype!r} has no contract form; imported without a body",
                    severity="warning",
                )
            )
            return
        media = content[ctype] if isinstance(content[ctype], dict) else {}
        at = where + pointer("content", ctype)
        draft.request_type = (
            "application/json" if JSON_TYPES.match(ctype) else "multipart/form-data"
        )
        draft.request_schema = self.refs.schema(media.get("schema", {}), f"{at}/schema", base)
        draft.request_schema_pointer = f"{at}/schema"
        draft.request_examples = self._examples(media, at, draft.request_schema)

    def _examples(self, media: dict[str, Any], at: str, schema: Any) -> list[DraftExample]:
        out = self._raw_examples(media, at, schema)
        for ex in out:
            ex.value = dialect.fit(ex.value)
        return out

    def _raw_examples(self, media: dict[str, Any], at: str, schema: Any) -> list[DraftExample]:
        taken: set[str] = set()
        out: list[DraftExample] = []
        if "example" in media:
            out.append(
                DraftExample(
                    naming.example_name("example", taken), media["example"], f"{at}/example"
                )
            )
        examples = media.get("examples")
        if isinstance(examples, dict):
            for key, raw in examples.items():
                ex, ex_at, _ = self.refs.lookup(raw, at + pointer("examples", key))
                if isinstance(ex, dict) and "value" in ex:
                    name = naming.example_name(str(key), taken)
                    summary = str(ex.get("summary") or (key if name.startswith("ex-") else ""))
                    out.append(DraftExample(name, ex["value"], f"{ex_at}/value", summary))
        elif isinstance(examples, list):  # not OpenAPI, but written by hand often enough
            out.extend(
                DraftExample(
                    naming.example_name(f"example-{i + 1}", taken), v, f"{at}/examples/{i}"
                )
                for i, v in enumerate(examples)
            )
        if (
            not out
            and isinstance(schema, dict)
            and "examples" in schema
            and isinstance(schema["examples"], list)
            and schema["examples"]
        ):
            out.append(
                DraftExample(
                    naming.example_name("schema-example", taken),
                    schema["examples"][0],
                    f"{at}/schema/example",
                )
            )
        return out

    def _responses(self, draft: Draft, responses: dict[str, Any], where: str) -> None:
        codes = sorted((str(c) for c in responses), key=lambda c: (not c.startswith("2"), c))
        success = next((c for c in codes if c.startswith("2")), None)
        for code in codes:
            raw = responses[code]
            at = where + pointer(code)
            resp, at, base = self.refs.lookup(raw, at)
            if not isinstance(resp, dict):
                continue
            if code == success:
                self._success(draft, code, resp, at, base)
            elif code[0] in "45" or code == "default":
                draft.errors.append(self._error(code, resp, at, base))
        if success is None:
            self.findings.append(
                Finding(
                    "no-success",
                    draft.label,
                    where,
                    "no 2xx response is documented; the import answers 200 with no body schema",
                    severity="warning",
                )
            )

    def _success(self, draft: Draft, code: str, resp: dict[str, Any], at: str, base: str) -> None:
        draft.status = int(code) if code.isdigit() else 200
        content = as_dict(resp.get("content"))
        json_type = _pick(content, lambda t: bool(JSON_TYPES.match(t)))
        stream_type = _pick(content, lambda t: t in STREAM_TYPES)
        others = [t for t in content if t not in STREAM_TYPES]  # a stream beside them: on request
        if json_type:
            media = content[json_type] if isinstance(content[json_type], dict) else {}
            m_at = at + pointer("content", json_type)
            draft.response_type = "application/json"
            draft.response_schema = self.refs.schema(
                media.get("schema", {}), f"{m_at}/schema", base
            )
            draft.response_schema_pointer = f"{m_at}/schema"
            draft.response_examples = self._examples(media, m_at, draft.response_schema)
        elif others:
            draft.response_type = others[0]
        elif not content:
            draft.response_schema = {}  # no body documented: any JSON answers it
        if stream_type:
            media = content[stream_type] if isinstance(content[stream_type], dict) else {}
            s_at = at + pointer("content", stream_type)
            draft.stream = self._stream(media, s_at, base, always=not others)
            if not others:
                draft.response_type = "text/event-stream"

    def _stream(self, media: dict[str, Any], at: str, base: str, always: bool) -> DraftStream:
        stream = DraftStream(when="always" if always else "requested", pointer=at)
        asked_by = media.get("x-relaykit-stream-asked-by")
        if isinstance(asked_by, dict) and asked_by and not always:
            stream.asked_by = asked_by
        event_schema = media.get("x-relaykit-event-schema", media.get("schema"))
        if isinstance(event_schema, dict):
            resolved = self.refs.schema(event_schema, f"{at}/schema", base)
            if not (isinstance(resolved, dict) and resolved.get("type") == "string"):
                stream.event_schema = resolved
        for ex in self._examples(media, at, None):
            if samples.looks_like_sse(ex.value):
                parsed = samples.parse_sse(ex.value)
                if not parsed.events:
                    continue
                stream.framing = "sse-named" if parsed.named else "sse-data"
                stream.terminator = parsed.terminator or stream.terminator
                ex.value = parsed.events
            elif isinstance(ex.value, dict):
                ex.value = [ex.value]
            elif not isinstance(ex.value, list) or not ex.value:
                continue
            stream.examples.append(ex)
        if stream.framing == "sse-named":
            named = (
                event_schema.get("x-relaykit-named-events")
                if isinstance(event_schema, dict)
                else None
            )
            seen = (e["event"] for ex in stream.examples for e in ex.value if isinstance(e, dict))
            stream.events = {name: {} for name in seen}
            for name, schema in (named or {}).items():
                where = f"{at}/x-relaykit-event-schema/x-relaykit-named-events/{name}"
                stream.events[name] = self.refs.schema(schema, where, base)
            stream.event_schema = None
        return stream

    def _error(self, code: str, resp: dict[str, Any], at: str, base: str) -> DraftError:
        content = as_dict(resp.get("content"))
        json_type = _pick(content, lambda t: bool(JSON_TYPES.match(t)))
        err = DraftError(int(code) if code.isdigit() else 0, str(resp.get("description", "")))
        if json_type and isinstance(content[json_type], dict):
            media = content[json_type]
            m_at = at + pointer("content", json_type)
            err.schema = self.refs.schema(media.get("schema", {}), f"{m_at}/schema", base)
            examples = self._examples(media, m_at, err.schema)
            err.example = examples[0].value if examples else None
        return err


def _texts(op: dict[str, Any]) -> tuple[str, str]:
    summary = str(op.get("summary") or "").strip()
    description = str(op.get("description") or "").strip()
    if "\n" in summary or len(summary) > 120:
        description = (summary + "\n\n" + description).strip()
        first = next((ln for ln in summary.splitlines() if ln.strip() and ln[0].isalnum()), "")
        summary = first.strip()[:120]
    if not summary and description:
        summary = description.splitlines()[0].strip()[:120]
    return summary, description


def _pick(content: dict[str, Any], test: Any) -> str | None:
    return next((t for t in content if test(media_type(t))), None)


def _first_example(examples: Any) -> Any:
    if isinstance(examples, dict):
        for ex in examples.values():
            if isinstance(ex, dict) and "value" in ex:
                return ex["value"]
    return None
