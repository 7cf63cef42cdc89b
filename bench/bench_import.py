"""Time `relaykit contracts import` on a generated OpenAPI 3.1 document of N operations.

    python bench/bench_import.py [--operations 2000] [--runs 3]

The document is made here (nothing is read from outside the repository): N operations over
N/4 paths, each with a request and a response schema referencing shared components, a request
and a response example (one in ten breaks its schema, for the lint), errors in the OpenAI
envelope, and one operation in ten streaming (SSE). Prints the document's size and, per run,
the time of the whole import (read, draft, lint, write, and the reload that checks every
written contract) and of loading the result as `relaykit serve --contracts` would.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from contracts.importer.run import import_document
from contracts.loader import default_contracts, load_contracts


def document(operations: int) -> dict[str, Any]:
    """An OpenAPI 3.1 document with ``operations`` operations."""
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["message", "type"],
                    "properties": {
                        "message": {"type": "string"},
                        "type": {"type": "string"},
                        "param": {"type": ["string", "null"]},
                        "code": {"type": ["string", "null"]},
                    },
                }
            },
        },
        "Usage": {
            "type": "object",
            "required": ["total_tokens"],
            "properties": {
                "prompt_tokens": {"type": "integer", "minimum": 0},
                "total_tokens": {"type": "integer", "minimum": 0},
            },
        },
    }
    paths: dict[str, Any] = {}
    for i in range(operations):
        name = f"Thing{i}"
        schemas[f"{name}Request"] = {
            "type": "object",
            "required": ["model", "input"],
            "properties": {
                "model": {"type": "string"},
                "input": {"type": "string"},
                "count": {"type": "integer", "minimum": 1, "maximum": 8},
                "stream": {"type": "boolean"},
            },
        }
        schemas[name] = {
            "type": "object",
            "required": ["id", "object", "data", "usage"],
            "properties": {
                "id": {"type": "string"},
                "object": {"const": f"thing{i}"},
                "data": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"text": {"type": "string"}}},
                },
                "usage": {"$ref": "#/components/schemas/Usage"},
            },
        }
        answer = {
            "id": f"t{i}",
            "object": f"thing{i}",
            "data": [{"text": "hi"}],
            "usage": {"prompt_tokens": 1, "total_tokens": 2},
        }
        if i % 10 == 3:
            del answer["usage"]  # a mistake for the lint
        content: dict[str, Any] = {
            "application/json": {
                "schema": {"$ref": f"#/components/schemas/{name}"},
                "examples": {"ok": {"value": answer}},
            }
        }
        if i % 10 == 7:
            content["text/event-stream"] = {
                "schema": {"$ref": f"#/components/schemas/{name}"},
                "examples": {"ok": {"value": f"data: {json.dumps(answer)}\n\ndata: [DONE]\n\n"}},
            }
        path = f"/v1/group{i // 4}/op{i % 4}"
        paths.setdefault(path, {})["post"] = {
            "operationId": f"createThing{i}",
            "tags": [f"group{i // 100}"],
            "summary": f"Create thing {i}",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{name}Request"},
                        "examples": {"ok": {"value": {"model": "m", "input": "hello"}}},
                    }
                },
            },
            "responses": {
                "200": {"description": "OK", "content": content},
                "400": {
                    "description": "Bad request",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": f"bench: {operations} operations", "version": "1"},
        "servers": [{"url": "https://relay.example"}],
        "security": [{"key": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"key": {"type": "http", "scheme": "bearer"}},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    shipped = default_contracts()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "bench.json"
        source.write_text(json.dumps(document(args.operations)), encoding="utf-8")
        print(f"document: {args.operations} operations, {source.stat().st_size / 1e6:.1f} MB")
        imports: list[tuple[float, float]] = []
        loads: list[tuple[float, float]] = []
        for run in range(args.runs):
            out = Path(tmp) / f"out{run}"
            wall, cpu = time.perf_counter(), time.process_time()
            result = import_document(source, out, shipped)
            imports.append((time.perf_counter() - wall, time.process_time() - cpu))
            wall, cpu = time.perf_counter(), time.process_time()
            loaded = load_contracts([out])
            loads.append((time.perf_counter() - wall, time.process_time() - cpu))
            print(
                f"run {run + 1}: import {_fmt(imports[-1])} ({len(result.written)} contracts, "
                f"{len(result.findings)} findings); load {_fmt(loads[-1])} "
                f"({len(loaded)} operations)"
            )
        print(f"median: import {_fmt(_median(imports))}; load {_fmt(_median(loads))}")


def _median(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def _fmt(pair: tuple[float, float]) -> str:
    """Wall and CPU time: the machine is shared, and CPU time is this process's own."""
    return f"{pair[0]:.2f} s wall, {pair[1]:.2f} s CPU"


if __name__ == "__main__":
    main()
