"""Input problems, located the way the user will look for them.

A JSON snapshot is located by JSON pointer; a workbook by sheet, row and column (with the header's name).
Every reader collects all problems before it gives up, and raises :class:`SnapshotError` with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

_FRIENDLY = {
    "extra_forbidden": (
        'unknown key (not in carbonmeter.snapshot/1; keep your own data under "extra") / 未知字段'
    ),
    "missing": "required field is missing / 缺少必填项",
}


class SnapshotError(Exception):
    """The snapshot cannot be read; ``problems`` holds one located line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def pointer(loc: Iterable[Any]) -> str:
    """A JSON pointer (RFC 6901) for a pydantic error location."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    return "/" + "/".join(parts) if parts else ""


def pydantic_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """``(pointer, reason)`` for each error of a validation, with friendlier wording for the common ones."""
    out = []
    for err in exc.errors(include_url=False):
        reason = _FRIENDLY.get(err["type"], err["msg"])
        if err["type"] not in ("missing",) and "input" in err and not isinstance(err["input"], dict | list):
            reason = f"{reason} (got {err['input']!r})"
        out.append((pointer(err["loc"]), reason))
    return out
