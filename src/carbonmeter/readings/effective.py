"""The one definition of "latest batch wins": the effective readings of the lake.

Nothing in the lake is updated in place; a correction is a later batch holding the same (org, point,
quantity, ts) with another value (contract *Batches*). Every reader that needs the value "as it stands now"
keeps, for each such key, the row of the highest ``batch`` — and only this module says how:

* :func:`latest_batch` builds it as an Ibis expression, so the portable aggregations
  (:mod:`carbonmeter.readings.aggregate`) run it on DuckDB and on Spark alike;
* :func:`latest_batch_sql` compiles that same expression to DuckDB SQL over a SQL source, for the readers
  that query DuckDB directly (:mod:`carbonmeter.readings.lake`: the ``*_effective`` view, the ingest's
  duplicate check, the point-month reader of the data-quality page).

Ties cannot happen: a batch holds each key once (ingest refuses duplicate rows within a batch), and batch
numbers are unique. ``tests/readings/test_effective.py`` checks the definition against a naive Python
reference on random batches with corrections, and that each reader goes through it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Final

import ibis
import ibis.expr.types as ir

#: The key of one reading: a later batch's row with the same key replaces it.
KEY: Final = ("org", "point", "quantity", "ts")
#: Column types for compiling to SQL (the names matter; the types only have to be plausible).
_TYPES: Final = {
    "org": "string",
    "point": "string",
    "quantity": "string",
    "ts": "timestamp('UTC')",
    "value": "float64",
    "batch": "int64",
    "y": "int32",
    "m": "int32",
}
_SOURCE: Final = "__carbonmeter_source__"
_RANK: Final = "_latest_rank"


def latest_batch(t: ir.Table, key: Sequence[str] = KEY) -> ir.Table:
    """The rows of ``t`` (which has ``batch`` and the ``key`` columns) that no higher batch replaces: one
    per ``key``, the highest ``batch``. Every column of ``t`` is kept."""
    window = ibis.window(group_by=[t[k] for k in key], order_by=ibis.desc(t.batch))
    ranked = t.mutate(**{_RANK: ibis.row_number().over(window)})
    return ranked.filter(ranked[_RANK] == 0).drop(_RANK)


@functools.cache
def _compiled(columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    schema = {c: _TYPES.get(c, "int64") for c in columns}
    t = ibis.table(schema, name=_SOURCE)
    return str(ibis.to_sql(latest_batch(t, key), dialect="duckdb"))


def latest_batch_sql(source: str, columns: Sequence[str], key: Sequence[str] = KEY) -> str:
    """DuckDB SQL of :func:`latest_batch` over ``source`` (a ``SELECT`` or a table expression giving at
    least ``columns``, among them ``batch`` and the ``key`` columns): a query of those ``columns``.

    Columns outside the known lake columns are taken as integers for compiling (e.g. a window count added
    by the source); DuckDB reads them as they are.
    """
    if "batch" not in columns or not set(key) <= set(columns):
        raise ValueError(f"columns {list(columns)} must hold batch and the key {list(key)}")
    return _compiled(tuple(columns), tuple(key)).replace(f'"{_SOURCE}"', f"({source})")
