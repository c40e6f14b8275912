"""Open vocabularies as people write them: an instrument's type, a point's parameter and purpose, a
management document's kind, a stream's formula.

The contract leaves them free text (an unknown value is the user's own word), but the product names the
values it knows: instrument types, parameters and some document kinds
(:data:`carbonmeter.core.terms.OPEN_TERMS`), purposes and required documents (their titles in the built-in
packs).  The workbook is written with these Chinese names, and every snapshot reader takes a name back to
its value, so ``压力变送器`` and ``pressure_transmitter`` are one type whichever file said it, and the
register re-imports as exported.
"""

from __future__ import annotations

from functools import cache
from typing import Final

import msgspec

from carbonmeter.core.snapshot import Snapshot
from carbonmeter.core.terms import OPEN_TERMS
from carbonmeter.io.ids import normalize_id, replaced
from carbonmeter.rules.loader import builtin_formula_names, builtin_names

#: The open vocabularies: the workbook's column kinds for them.
OPEN_KINDS: Final = frozenset({*OPEN_TERMS, "purpose", "formula"})


@cache
def open_terms() -> dict[str, dict[str, str]]:
    """Open vocabulary → value → Chinese name."""
    purposes, _, documents = builtin_names()
    return {
        **OPEN_TERMS,
        "purpose": {key: zh for key, (zh, _) in purposes.items()},
        "document_kind": OPEN_TERMS["document_kind"] | {key: zh for key, (zh, _) in documents.items()},
        "formula": {key: zh for key, (zh, _) in builtin_formula_names().items()},
    }


@cache
def _values(kind: str) -> dict[str, str]:
    return {_key(name): value for value, name in open_terms()[kind].items()}


def _key(text: str) -> str:
    return "".join(normalize_id(text).split()).casefold()


def term_name(kind: str, value: str) -> str:
    """The Chinese name of a known value; any other text as it is."""
    return open_terms()[kind].get(value, value)


def term_value(kind: str, text: str) -> str:
    """The value a Chinese name stands for (full-width, spaces and case aside); any other text as it is."""
    return _values(kind).get(_key(text), text)


def normalize_terms(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with each open-vocabulary field that holds a known name holding its value instead."""
    return msgspec.structs.replace(
        snapshot,
        source_streams=tuple(
            replaced(s, formula=s.formula and term_value("formula", s.formula))
            for s in snapshot.source_streams
        ),
        measuring_points=tuple(
            replaced(
                p,
                parameter=term_value("parameter", p.parameter),
                purpose=p.purpose and term_value("purpose", p.purpose),
            )
            for p in snapshot.measuring_points
        ),
        documents=tuple(replaced(d, kind=term_value("document_kind", d.kind)) for d in snapshot.documents),
        instruments=tuple(
            replaced(
                i,
                type=term_value("instrument_type", i.type),
                components=tuple(
                    replaced(c, type=term_value("instrument_type", c.type)) for c in i.components
                ),
            )
            for i in snapshot.instruments
        ),
    )
