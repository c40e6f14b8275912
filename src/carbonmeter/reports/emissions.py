"""What every report shows of the accounting model: the formula streams, largest first, with their names."""

from __future__ import annotations

from typing import NamedTuple

from carbonmeter.core.accounting import StreamAccount
from carbonmeter.core.assess import Assessment
from carbonmeter.core.classify import StreamClass
from carbonmeter.core.snapshot import Snapshot


class FormulaStream(NamedTuple):
    cls: StreamClass
    account: StreamAccount
    name: str
    #: The formula by its pack title (zh), never its id.
    formula: str


def formula_streams(a: Assessment, s: Snapshot) -> list[FormulaStream]:
    """Every stream with a formula, by emissions descending (the order of every report's table)."""
    acc = a.accounting
    if acc is None:
        return []
    names = {x.id: x.name for x in s.source_streams}
    out = []
    for c in sorted(a.streams, key=lambda c: -c.emissions_t):
        st = acc.streams[c.stream]
        if st.formula is None:
            continue
        spec = a.pack.formulas.get(st.formula)
        out.append(FormulaStream(c, st, names[c.stream], spec.title.zh if spec else st.formula))
    return out
