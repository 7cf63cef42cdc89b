"""Follow and inline ``$ref``s with ``referencing`` (what jsonschema resolves with).

Contracts hold self-contained schemas, so every reference of an imported schema is inlined,
except those naming a shipped shared schema with the very same content (kept as
``#/components/schemas/<Name>``, which the loader resolves). A reference that does not resolve
becomes ``{}`` (anything) and is recorded at its site for the lint; a recursive one is cut
where it recurs (recorded too). References to other files are read from beside the document;
nothing is fetched from the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag

from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT202012

from contracts.importer import dialect, sources, synth
from contracts.importer.errors import SourceError

SHARED_PREFIX = "#/components/schemas/"
MAX_CHAIN = 32


def _retrieve(uri: str) -> Resource:
    if not uri.startswith("file://"):
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # never the network
    path = Path(unquote(uri[len("file://") :]))
    try:
        data = sources.parse(str(path), path.read_text(encoding="utf-8"))
    except (OSError, SourceError) as exc:
        raise NoSuchResource(ref=uri) from exc  # type: ignore[call-arg]
    return DRAFT202012.create_resource(data)


class Inliner:
    """Resolves references of one document and inlines schemas, recording what fails."""

    def __init__(
        self, doc: Any, file: str, legacy: bool, keep: frozenset[str] = frozenset()
    ) -> None:
        self.root = Path(file).resolve().as_uri()
        self.registry: Registry[Any] = Registry(retrieve=_retrieve).with_resource(  # type: ignore[call-arg]
            self.root, DRAFT202012.create_resource(doc)
        )
        self.legacy = legacy
        self.keep = keep
        self.unresolved: dict[str, str] = {}  # site pointer -> what failed
        self.recursive: dict[str, str] = {}  # site pointer -> the reference cut there
        self.repaired: dict[str, list[str]] = {}  # site pointer -> what was repaired there
        self.bad_examples: dict[str, str] = {}  # site pointer -> a schema example of another type
        self.seen: set[str] = set()  # sites met since the last begin()
        self._memo: dict[str, tuple[Any, frozenset[str]]] = {}

    def begin(self) -> None:
        """Start recording the sites one operation meets."""
        self.seen = set()

    def _site(self, base: str, where: str) -> str:
        return where if base == self.root else f"{Path(base).name}#{where}"

    def lookup(self, node: Any, where: str, base: str | None = None) -> tuple[Any, str, str]:
        """Follow a ``$ref`` chain: (target or None, its pointer, its base URI)."""
        base = base or self.root
        for _ in range(MAX_CHAIN):
            ref = node.get("$ref") if isinstance(node, dict) else None
            if not isinstance(ref, str):
                return node, where, base
            site = self._site(base, where + "/$ref")
            try:
                resolved = self.registry.resolver(base).lookup(ref)
            except Unresolvable:
                self.unresolved[site] = ref
                self.seen.add(site)
                return None, where, base
            target_uri, fragment = urldefrag(_join(base, ref))
            node, where, base = resolved.contents, unquote(fragment), target_uri
        self.unresolved[self._site(base, where)] = "a $ref chain longer than 32 links"
        return None, where, base

    def schema(self, node: Any, where: str, base: str | None = None) -> Any:
        """``node`` with every reference inlined and its keywords in 2020-12 terms."""
        return self._schema(node, where, base or self.root, ())

    def _schema(self, node: Any, where: str, base: str, stack: tuple[str, ...]) -> Any:
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            return {}
        ref = node.get("$ref")
        if isinstance(ref, str):
            return self._ref(node, ref, where, base, stack)
        out, repairs = dialect.normalise(node, self.legacy)
        if repairs:
            self.repaired[self._site(base, where)] = repairs
        examples = out.get("examples")
        if isinstance(examples, list) and "type" in out:
            bad = next((e for e in examples if not synth.fits_type(e, out)), None)
            if bad is not None:
                site = self._site(base, where + ("/example" if self.legacy else "/examples"))
                self.bad_examples[site] = f"the schema's example {bad!r} is not of its type " + (
                    f"{out['type']!r}"
                )
                self.seen.add(site)
        for key in dialect.SCHEMA_KEYS:
            if key in out and isinstance(out[key], dict | bool):
                out[key] = self._schema(out[key], f"{where}/{key}", base, stack)
        for key in dialect.SCHEMA_LISTS:
            if isinstance(out.get(key), list):
                out[key] = [
                    self._schema(s, f"{where}/{key}/{i}", base, stack)
                    for i, s in enumerate(out[key])
                ]
        for key in dialect.SCHEMA_MAPS:
            if isinstance(out.get(key), dict):
                out[key] = {
                    name: self._schema(s, where + sources.pointer(key, name), base, stack)
                    for name, s in out[key].items()
                }
        if out.get("type") == "array" and isinstance(out.get("items"), list):  # draft 4 tuples
            out["prefixItems"] = out.pop("items")
        return out

    def _ref(
        self, node: dict[str, Any], ref: str, where: str, base: str, stack: tuple[str, ...]
    ) -> Any:
        site = self._site(base, where + "/$ref")
        target = _join(base, ref)
        if (
            base == self.root
            and ref.startswith(SHARED_PREFIX)
            and ref[len(SHARED_PREFIX) :] in (self.keep)
        ):
            inlined: Any = {"$ref": ref}
        elif target in stack:
            self.recursive.setdefault(site, ref)
            inlined = {"description": f"recursive reference {ref} (not followed)"}
        elif target in self._memo:
            inlined, sites = self._memo[target]
            self.seen |= sites
        else:
            before = set(self.seen)
            self.seen = set()
            recursive_before = len(self.recursive)
            value, at, at_base = self.lookup({"$ref": ref}, where, base)
            if value is None:
                self.unresolved[site] = ref
                self.seen.add(site)
                inlined = {}
            else:
                inlined = self._schema(value, at, at_base, (*stack, target))
                if len(self.recursive) == recursive_before:  # a cut depends on the path taken
                    self._memo[target] = (inlined, frozenset(self.seen))
            self.seen |= before
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if not siblings:
            return inlined
        rest = self._schema(siblings, where, base, stack)
        return {**rest, "allOf": [*rest.get("allOf", []), inlined]}


def _join(base: str, ref: str) -> str:
    """The absolute URI a reference names, from the base it appears in."""
    if ref.startswith("#"):
        return base + ref
    if "://" in ref:
        return ref
    url, fragment = urldefrag(ref)
    joined = (Path(unquote(base[len("file://") :])).parent / url).resolve().as_uri()
    return joined + (f"#{fragment}" if fragment else "")
