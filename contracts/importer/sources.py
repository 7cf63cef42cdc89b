"""Read a document (JSON or YAML), recognise its format, and find the line of a JSON pointer.

Syntax errors become a ``SourceError`` naming the line and column. YAML is read as JSON data:
dates stay strings (``2024-10-21`` is a version, not a date), as a JSON parser would have them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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
    _tree: Any = field(default=None, repr=False)
    _tree_read: bool = field(default=False, repr=False)

    def line_of(self, pointer: str) -> int | None:
        """The 1-based line where the value at ``pointer`` starts, when it can be found."""
        if not self._tree_read:
            self._tree_read = True
            try:
                self._tree = yaml.compose(self.text, Loader=_JsonYamlLoader)
            except yaml.YAMLError:
                self._tree = None
        node = self._tree
        if node is None:
            return None
        for part in split_pointer(pointer):
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == part), None)
            elif isinstance(node, yaml.SequenceNode) and part.isdigit():
                index = int(part)
                node = node.value[index] if index < len(node.value) else None
            else:
                node = None
            if node is None:
                return None
        return int(node.start_mark.line) + 1


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
