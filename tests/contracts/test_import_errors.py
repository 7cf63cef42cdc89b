"""A document that cannot be imported gets one line naming the file and the place, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from relaykit.cli import main
from tests.conftest import ROOT

SWAGGER = ROOT / "tests" / "data" / "import" / "relay-swagger.yaml"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["contracts", "import", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("trailing.json", '{"openapi": "3.1.0",\n "paths": {"/x": {},}\n}\n',
         "trailing.json: line 2, column 20: not valid JSON"),
        ("unclosed.yaml", "openapi: 3.1.0\npaths:\n  /x:\n    get: {responses: {}\n  y: 2\n",
         "unclosed.yaml: line 5, column 3: not valid YAML"),
        ("paths.yaml", "openapi: 3.1.0\npaths: 5\n",
         "paths.yaml: /paths: expected a mapping of paths, got int"),
        ("what.yaml", "hello: world\n", "what.yaml: <root>: not an OpenAPI 3, Swagger 2"),
        ("empty.yaml", "", "empty.yaml: <root>: expected a mapping, got nothing"),
        ("old.yaml", "openapi: 2.5.0\npaths: {}\n", "old.yaml: /openapi: unsupported OpenAPI"),
        ("items.json", '{"info": {"schema": "https://schema.getpostman.com/json/collection/'
         'v2.1.0/collection.json"}, "item": {"a": 1}}', "items.json: /item: expected a list"),
        ("fox.json", '{"apifoxProject": "1.0.0", "apiCollection": 3}',
         "fox.json: /apiCollection: expected a list"),
    ],
)  # fmt: skip
def test_malformed_documents_get_one_line(tmp_path: Path, name: str, text: str, says: str) -> None:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    code, output = run(str(source), "-o", str(tmp_path / "out"))
    assert code == 2
    lines = output.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], output
    assert "Traceback" not in output
    assert not (tmp_path / "out").exists()


def test_a_missing_file_and_a_wrong_format(tmp_path: Path) -> None:
    code, output = run(str(tmp_path / "nope.json"), "-o", str(tmp_path / "out"))
    assert code == 2 and "nope.json: cannot read" in output
    code, output = run(str(SWAGGER), "--format", "postman", "-o", str(tmp_path / "out"))
    assert code == 2 and "expected a postman document, this is swagger" in output


def test_a_directory_of_other_yaml_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("a: 1\n", encoding="utf-8")
    code, output = run(str(SWAGGER), "-o", str(tmp_path))
    assert code == 2 and "holds YAML files that no import wrote" in output
    assert (tmp_path / "mine.yaml").read_text(encoding="utf-8") == "a: 1\n"


def test_the_command_prints_the_lint_and_a_summary(tmp_path: Path) -> None:
    code, output = run(str(ROOT / "tests" / "data" / "import" / "relay-postman.json"),
                       "-o", str(tmp_path))  # fmt: skip
    assert code == 0
    assert (
        "relay-postman.json:/item/1/item/0/response/0/originalRequest/url (line 255): L2 "
        "path-mismatch: models.list_models (GET /v1/models): the example calls /models" in output
    )
    assert "imported postman v2.1.0" in output and "3 contracts" in output
    assert (tmp_path / "LINT.md").exists() and (tmp_path / "lint.json").exists()
