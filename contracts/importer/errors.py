"""The one error an import can end in: a document that cannot be read, named with its place."""

from __future__ import annotations


class SourceError(Exception):
    """The document cannot be imported; ``str()`` is one line naming the file and the place."""

    def __init__(self, file: str, place: str, message: str) -> None:
        self.file = file
        self.place = place
        self.message = message
        super().__init__(f"{file}: {place}: {message}" if place else f"{file}: {message}")
