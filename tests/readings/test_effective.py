""" "Latest batch wins" has one definition (:mod:`carbonmeter.readings.effective`), equal to a naive Python
reference on random batches with corrections, in Ibis and in compiled SQL, and every reader uses it."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmeter.readings.effective import KEY, latest_batch, latest_batch_sql

SRC = Path(__file__).resolve().parents[2] / "src" / "carbonmeter"
T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)

Key = tuple[str, str, str, dt.datetime]

keys = st.tuples(
    st.sampled_from(["A", "B"]),
    st.sampled_from(["P1", "P2"]),
    st.sampled_from(["coal", "gas"]),
    st.integers(0, 5).map(lambda i: T0 + dt.timedelta(minutes=15 * i)),
)
#: A batch holds each key once (ingest refuses duplicates within a batch): a dict key → value.
batch = st.dictionaries(keys, st.floats(-1e6, 1e6, allow_nan=False), max_size=12)


def stored_rows(batches: list[dict[Key, float]]) -> list[dict[str, Any]]:
    """The stored rows of ``batches`` numbered 1…n, in a shuffled-looking order (newest first)."""
    out = []
    for seq, content in reversed(list(enumerate(batches, start=1))):
        for (org, point, quantity, ts), value in content.items():
            row = {"org": org, "point": point, "quantity": quantity, "ts": ts, "value": value, "batch": seq}
            out.append(row)
    return out


def reference(batches: list[dict[Key, float]]) -> dict[Key, tuple[float, int]]:
    """Naive: apply the batches in order, a later one overwriting an earlier one's key."""
    state: dict[Key, tuple[float, int]] = {}
    for seq, content in enumerate(batches, start=1):
        for key, value in content.items():
            state[key] = (value, seq)
    return state


def as_state(rows: list[tuple[Any, ...]]) -> dict[Key, tuple[float, int]]:
    out: dict[Key, tuple[float, int]] = {}
    for org, point, quantity, ts, value, seq in rows:
        when = (
            ts
            if isinstance(ts, dt.datetime)
            else dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=ts)
        )
        key = (org, point, quantity, when.astimezone(dt.UTC))
        assert key not in out, f"two effective rows for {key}"
        out[key] = (value, seq)
    return out


SCHEMA = pa.schema(
    [
        ("org", pa.string()),
        ("point", pa.string()),
        ("quantity", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("value", pa.float64()),
        ("batch", pa.int64()),
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(batch, min_size=0, max_size=6))
def test_ibis_definition_equals_the_naive_reference(batches: list[dict[Key, float]]) -> None:
    table = pa.Table.from_pylist(stored_rows(batches), schema=SCHEMA)
    con = ibis.duckdb.connect()
    con.con.register("stored", table)
    effective = latest_batch(con.table("stored"))
    got = effective.select(*KEY, "value", "batch").to_pyarrow().to_pylist()
    assert as_state([tuple(r.values()) for r in got]) == reference(batches)


@settings(max_examples=150, deadline=None)
@given(st.lists(batch, min_size=0, max_size=6))
def test_compiled_sql_equals_the_naive_reference(batches: list[dict[Key, float]]) -> None:
    stored = pa.Table.from_pylist(stored_rows(batches), schema=SCHEMA)
    con = duckdb.connect()
    con.register("stored", stored)
    sql = latest_batch_sql("SELECT * FROM stored", SCHEMA.names)
    got = con.execute(f"SELECT org, point, quantity, epoch_us(ts), value, batch FROM ({sql})").fetchall()
    assert as_state(got) == reference(batches)
    # one organization's rows keyed without org (the ingest's duplicate check)
    one = latest_batch_sql("SELECT * FROM stored WHERE org = 'A'", SCHEMA.names, KEY[1:])
    got_a = con.execute(f"SELECT org, point, quantity, epoch_us(ts), value, batch FROM ({one})").fetchall()
    assert as_state(got_a) == {k: v for k, v in reference(batches).items() if k[0] == "A"}


def test_sql_refuses_columns_without_batch_or_key() -> None:
    with pytest.raises(ValueError, match="batch"):
        latest_batch_sql("SELECT 1", ("org", "point", "quantity", "ts", "value"))


# --- every reader goes through the one definition -----------------------------------------------------

#: The modules that read effective readings, and what each must call.
CALLERS = {
    "readings/lake.py": "latest_batch_sql",
    "readings/aggregate.py": "latest_batch",
}


def _calls(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            names.append(node.func.id)
    return names


@pytest.mark.parametrize(("module", "function"), sorted(CALLERS.items()))
def test_each_reader_calls_the_definition(module: str, function: str) -> None:
    assert function in _calls(SRC / module)


def test_no_other_module_ranks_batches_itself() -> None:
    """No window over ``batch``, ``arg_max(…, batch)`` or ``ORDER BY batch DESC`` outside the definition:
    a seventh copy would be found here, whatever the layer."""
    patterns = [
        re.compile(p)
        for p in (
            r"order by \w*\.?batch desc",
            r"desc\(\w+\.batch\)",
            r"arg_max\([^)]*batch",
            r"row_number\(\)",
        )
    ]
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "effective.py" and path.parent.name == "readings":
            continue
        text = path.read_text(encoding="utf-8").lower()
        offenders += [f"{path.relative_to(SRC)}: {p.pattern}" for p in patterns if p.search(text)]
    assert offenders == []
