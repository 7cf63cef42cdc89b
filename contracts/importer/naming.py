"""Contract ids, families, example names and path parameters named the way contracts need."""

from __future__ import annotations

import re
import zlib

_VERSION = re.compile(r"^v\d+[a-z0-9]*$")


def slug(text: str, sep: str = "_") -> str:
    """Lower-case letters and digits joined by ``sep`` (camelCase split first)."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return re.sub(r"[^a-z0-9]+", sep, text.lower()).strip(sep)


def family_of(tags: list[str], path: str) -> str:
    """The first tag, else the first path segment that is not a version (``v1``)."""
    for tag in tags:
        if slug(tag, "-"):
            return slug(tag, "-")
    for segment in path.split("/"):
        if segment and not segment.startswith("{") and not _VERSION.match(segment):
            return slug(segment, "-") or "imported"
    return "imported"


def operation_id(operation_id: str, family: str, method: str, path: str) -> str:
    """A contract id: a dotted operationId as it is, else ``<family>.<operationId>``."""
    if operation_id:
        parts = [slug(p) for p in operation_id.split(".")]
        parts = [p for p in parts if p]
        if len(parts) >= 2:
            return ".".join(parts)
        if parts:
            return f"{slug(family)}.{parts[0]}"
    route = slug(re.sub(r"\{[^}]*\}", "by", path)) or "root"
    return f"{slug(family) or 'imported'}.{method.lower()}_{route}"


def example_name(text: str, taken: set[str]) -> str:
    """An example name (``[a-z0-9][a-z0-9_.-]*``), unique among ``taken``; a name with no
    ASCII letters (成功) gets a stable hash, so that one key names the same example on the
    request and the response side."""
    base = re.sub(r"[^a-z0-9_.-]+", "-", text.lower()).strip("-_.")
    if not base or (base.isdigit() and not text.isdigit()):
        base = f"ex-{zlib.crc32(text.encode()):08x}" if text else "example"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def param_name(name: str) -> str:
    """A path parameter name the routers accept (``deployment-id`` -> ``deployment_id``)."""
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return clean if re.match(r"^[A-Za-z_]", clean) else f"p_{clean}"


def contract_path(path: str) -> str:
    """The path with parameter names the routers accept."""
    return re.sub(r"\{([^}]*)\}", lambda m: "{" + param_name(m.group(1)) + "}", path)
