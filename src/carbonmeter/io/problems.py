"""Input problems, located the way the user will look for them.

A JSON snapshot is located by JSON pointer; a workbook by sheet, row and column (with the header's name).
Every reader collects all problems before it gives up, and raises :class:`SnapshotError` with them.

A reason the readers themselves give is a catalogue code with parameters (:class:`Reason`), rendered in the
reader's language at the edge: both languages on the command line, the page's language on the web.  Reasons
that come from validation (the schema, the integrity check) are still bilingual text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from carbonmeter.rules.messages import Lang, quote, render

__all__ = ["Located", "Reason", "SnapshotError", "located", "pointer", "quote"]

#: A reason given as text (from validation) is cut here, whatever it quotes: the last guard on stderr's size.
MAX_REASON: Final = 1000


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an input is refused: a code of the message catalogue and its parameters."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    #: What follows it, after a dash: the problem a missing column or item leads to.
    then: Reason | str | None = None

    def text(self, lang: Lang | None = None) -> str:
        """The reason in ``lang``; ``None`` gives both, English then Chinese, as the command line says it."""
        if lang is None:
            own = (
                f"{render(self.code, dict(self.params), 'en')} / {render(self.code, dict(self.params), 'zh')}"
            )
        else:
            own = render(self.code, dict(self.params), lang)
        if self.then is None:
            return own
        then = self.then.text(lang) if isinstance(self.then, Reason) else self.then
        return f"{own} — {then}"

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True, slots=True)
class Located:
    """One problem: the file, where in it (``sheet!cell (header)``, a JSON pointer, or nothing), and why.

    ``sheet``, ``row``, ``column`` (letters) and ``header`` are set for a workbook, for a table on the web.
    """

    source: str
    where: str
    reason: Reason | str
    sheet: str = ""
    row: int = 0
    column: str = ""
    header: str = ""

    def text(self, lang: Lang | None = None) -> str:
        if isinstance(self.reason, Reason):
            return self.reason.text(lang)
        if len(self.reason) <= MAX_REASON:
            return self.reason
        return f"{self.reason[:MAX_REASON]}…[{len(self.reason):,}]"

    def line(self, lang: Lang | None = None, source: str | None = None) -> str:
        """``file: where: reason``, the form the command line prints (``source`` renames the file)."""
        parts = [self.source if source is None else source, self.where, self.text(lang)]
        return ": ".join(part for part in parts if part)


class SnapshotError(Exception):
    """The snapshot cannot be read; ``problems`` holds one located line per problem, ``located`` the same
    problems as values (to render in another language, or as a table)."""

    def __init__(self, problems: Iterable[str | Located]) -> None:
        self.located = [p if isinstance(p, Located) else Located("", "", p) for p in problems]
        self.problems = [p.line() for p in self.located]
        super().__init__("\n".join(self.problems))


def located(source: str, code: str, where: str = "", **params: Any) -> Located:
    """A problem of the whole input or at ``where``, for a reason from the catalogue."""
    return Located(source, where, Reason(code, params))


def pointer(loc: Iterable[Any]) -> str:
    """A JSON pointer (RFC 6901) for a path of keys and indexes."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    return "/" + "/".join(parts) if parts else ""
