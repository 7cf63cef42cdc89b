"""Read a document (JSON or YAML), recognise its format, and find the line of a JSON pointer.

Syntax errors become a ``SourceError`` naming the line and column. YAML is read as JSON data:
dates stay strings (``2024-10-21`` is a version, not a date), as a JSON parser would have them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml

from contracts.importer.errors import SourceError

Format = Literal["openapi", "swagger", "apifox", "postman"]
FORMATS: tuple[Format, ...] = ("openapi", "swagger", "apifox", "postman")
POSTMAN_SCHEMA = "schema.getpostman.com/json/collection/v2"


class _JsonYamlLoader(yaml.CSafeLoader):
    """The C safe loader without the timestamp resolver: YAML read the way JSON would be."""


_JsonYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Source:
    """A parsed document: its file, text, data and recognised format."""

    file: str
    text: str
    data: Any
    format: Format
    version: str = ""

    def lines_of(self, pointers: list[str]) -> dict[str, int]:
        """The 1-based line of each pointer's value (or of its deepest part that exists).

        Read from the parser's events, not a composed tree: resolving every scalar's tag is
        what makes composing a large document slow, and a pointer needs none of it.
        """
        wanted = {p for ptr in pointers for p in _prefixes(ptr)}
        found = _event_lines(self.text, wanted)
        out: dict[str, int] = {}
        for ptr in pointers:
            best = max((p for p in _prefixes(ptr) if p in found), key=len, default=None)
            if best is not None:
                out[ptr] = found[best]
        return out


def _prefixes(ptr: str) -> list[str]:
    parts = ptr.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _event_lines(text: str, wanted: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    stack: list[list[Any]] = []  # [is_mapping, pointer, pending key or next index]

    def start() -> str:
        if not stack:
            return ""
        frame = stack[-1]
        if frame[0]:
            key, frame[2] = frame[2], None
            return f"{frame[1]}/{str(key).replace('~', '~0').replace('/', '~1')}"
        frame[2] += 1
        return f"{frame[1]}/{frame[2] - 1}"

    try:
        for event in yaml.parse(text, Loader=_JsonYamlLoader):
            if isinstance(event, yaml.ScalarEvent | yaml.AliasEvent | yaml.CollectionStartEvent):
                frame = stack[-1] if stack else None
                if frame is not None and frame[0] and frame[2] is None:
                    frame[2] = getattr(event, "value", "")  # a mapping key
                    if isinstance(event, yaml.CollectionStartEvent):  # a complex key: skip it
                        stack.append([isinstance(event, yaml.MappingStartEvent), "\0", None])
                    continue
                at = start()
                if at in wanted and event.start_mark is not None:
                    found[at] = int(event.start_mark.line) + 1
                    if len(found) == len(wanted):
                        break
                if isinstance(event, yaml.CollectionStartEvent):
                    stack.append(
                        [
                            isinstance(event, yaml.MappingStartEvent),
                            at,
                            None if isinstance(event, yaml.MappingStartEvent) else 0,
                        ]
                    )
            elif isinstance(event, yaml.CollectionEndEvent) and stack:
                stack.pop()
    except yaml.YAMLError:
        pass
    return found


def split_pointer(pointer: str) -> list[str]:
    """The reference tokens of a JSON pointer (``~1`` is ``/``, ``~0`` is ``~``)."""
    if not pointer or pointer == "/":
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]


def pointer(*parts: str | int) -> str:
    """A JSON pointer from reference tokens."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def parse(file: str, text: str) -> Any:
    """JSON or YAML text as data; a syntax error names its line and column."""
    if text.lstrip().startswith(("{", "[")):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            err = json.JSONDecodeError(exc.msg, text, exc.pos)
            raise SourceError(
                file, f"line {err.lineno}, column {err.colno}", f"not valid JSON: {exc.msg}"
            ) from None
    try:
        return yaml.load(text, Loader=_JsonYamlLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourceError(file, place, f"not valid YAML: {what}") from None


def detect(file: str, data: Any) -> tuple[Format, str]:
    """The document's format and version, from the keys that announce it."""
    if not isinstance(data, dict):
        raise SourceError(file, "<root>", f"expected a mapping, got {_kind(data)}")
    openapi = data.get("openapi")
    if isinstance(openapi, str) and openapi.startswith("3."):
        return "openapi", openapi
    if str(data.get("swagger", "")).startswith("2"):
        return "swagger", str(data["swagger"])
    if "apifoxProject" in data:
        return "apifox", str(data["apifoxProject"])
    info = data.get("info")
    schema = info.get("schema", "") if isinstance(info, dict) else ""
    if isinstance(schema, str) and POSTMAN_SCHEMA in schema:
        return "postman", schema.rstrip("/").rsplit("/", 2)[-2]
    if openapi is not None:
        raise SourceError(file, "/openapi", f"unsupported OpenAPI version {openapi!r} (3.x only)")
    raise SourceError(
        file,
        "<root>",
        "not an OpenAPI 3, Swagger 2, Apifox or Postman v2.1 document "
        "(no openapi, swagger, apifoxProject or info.schema key)",
    )


def read(path: Path, expected: str = "auto") -> Source:
    """Read and recognise the document at ``path``; ``expected`` forces a format."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(file, "", f"cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(file, f"byte {exc.start}", "not UTF-8 text") from None
    data = parse(file, text)
    fmt, version = detect(file, data)
    if expected not in ("auto", fmt):
        raise SourceError(file, "<root>", f"expected a {expected} document, this is {fmt}")
    return Source(file=file, text=text, data=data, format=fmt, version=version)


def _kind(value: Any) -> str:
    return "nothing (an empty document)" if value is None else type(value).__name__
