"""placeholder"""
from typing import Any
from contracts.importer.sources import Source
def convert(source: Source) -> dict[str, Any]:
    raise NotImplementedError
