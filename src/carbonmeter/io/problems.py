"""Input problems, located the way the user will look for them.

A JSON snapshot is located by JSON pointer; a workbook by sheet, row and column (with the header's name).
Every reader collects all problems before it gives up, and raises :class:`SnapshotError` with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class SnapshotError(Exception):
    """The snapshot cannot be read; ``problems`` holds one located line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def pointer(loc: Iterable[Any]) -> str:
    """A JSON pointer (RFC 6901) for a path of keys and indexes."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    return "/" + "/".join(parts) if parts else ""
