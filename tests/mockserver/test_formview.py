"""Multipart forms become the instance their request schema checks (mockserver/formview.py)."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.model import ContractSet
from contracts.validation import Validators
from mockserver.formview import coerce, form_view
from mockserver.requests import validation_view

FILE = {"filename": "a.png", "content_type": "image/png", "size": 10}

SCHEMA = {
    "type": "object",
    "properties": {
        "n": {"type": ["integer", "null"]},
        "temperature": {"type": "number"},
        "stream": {"type": "boolean"},
        "name": {"type": "string"},
        "ratio": {"$ref": "#/components/schemas/Ratio"},
        "options": {"type": "object"},
        "tags[]": {"type": "array", "items": {"type": "integer"}},
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
    },
    "allOf": [{"properties": {"seed": {"type": "integer"}}}],
}
COMPONENTS = {"Ratio": {"enum": [1, 2]}}


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("n", "3", 3),
        ("n", "null", None),
        ("n", "three", "three"),
        ("temperature", "0.5", 0.5),
        ("temperature", "1", 1),
        ("temperature", "nan", "nan"),
        ("stream", "True", True),
        ("stream", "false", False),
        ("name", "42", "42"),
        ("ratio", "2", 2),
        ("options", '{"a": 1}', {"a": 1}),
        ("options", "[1]", "[1]"),
        ("tags[]", "[1, 2]", [1, 2]),
        ("tags[]", "7", [7]),
        ("seed", "12", 12),
        ("unknown", "12", "12"),
    ],
)
def test_values_take_the_declared_type(field: str, text: str, expected: Any) -> None:
    assert form_view(SCHEMA, {field: text}, COMPONENTS) == {field: expected}


def test_files_are_placeholders_and_repeats_are_lists() -> None:
    view = form_view(SCHEMA, {"files": FILE, "tags[]": ["1", "2"], "name": FILE}, COMPONENTS)
    assert view == {"files": ["<binary image/png>"], "tags[]": [1, 2], "name": "<binary image/png>"}
    assert form_view(SCHEMA, {"files": [FILE, FILE]}, COMPONENTS)["files"] == [
        "<binary image/png>",
        "<binary image/png>",
    ]
    assert coerce("x", [], COMPONENTS) == "x"


def test_shipped_multipart_examples_validate_through_the_view(contracts: ContractSet) -> None:
    """Each multipart request example, sent as a form would send it, passes its schema."""
    validators = Validators(contracts.components)
    checked = 0
    for op in contracts:
        if op.request.content_type != "multipart/form-data" or op.request.schema is None:
            continue
        for example in op.request.examples:
            form = {k: _as_form(v) for k, v in example.value.items()}
            view = validation_view(op, form)
            assert validators.problems(op.request.schema, view) == [], (op.id, example.name)
            checked += 1
    assert checked >= 15


def _as_form(value: Any) -> Any:
    if isinstance(value, list):
        return [_as_form(v) for v in value]
    if isinstance(value, str) and value.startswith("<binary"):
        return {"filename": "f", "content_type": value[8:-1], "size": 1}
    return (
        value
        if isinstance(value, str)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )
