"""The ledger: the content hash defined in Python and computed by DuckDB agree; the chain hash is the
contract's formula; verification finds any altered, added or removed row, file or batch and names it."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonmeter.readings import lake as lake_mod
from carbonmeter.readings.ledger import (
    LINE_SQL,
    ZERO_HASH,
    BatchRecord,
    ContentHasher,
    canonical_json,
    canonical_line,
    chain_hash,
    content_hash,
    line_sql,
    verify,
)

from .test_lake import ORG, add_batch, rows

text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\t\n"), min_size=1, max_size=12
)
maybe_text = st.none() | text
instants = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
line_rows = st.lists(
    st.tuples(
        text,
        text,
        instants,
        st.floats(allow_nan=False, allow_infinity=False),
        text,
        maybe_text,
        st.none() | instants,
        maybe_text,
    ),
    min_size=0,
    max_size=30,
)


def _arrow(rows: list[tuple[Any, ...]], naive: bool) -> pa.Table:
    tz = None if naive else "UTC"
    cols = list(zip(*rows, strict=True)) if rows else [[]] * 8

    def times(values: Any) -> pa.Array:
        return pa.array(
            [None if v is None else (v.replace(tzinfo=None) if naive else v) for v in values],
            pa.timestamp("us", tz=tz),
        )

    return pa.table(
        {
            "point": pa.array(cols[0], pa.string()),
            "quantity": pa.array(cols[1], pa.string()),
            "ts": times(cols[2]),
            "value": pa.array(cols[3], pa.float64()),
            "unit": pa.array(cols[4], pa.string()),
            "sample_id": pa.array(cols[5], pa.string()),
            "analyzed_at": times(cols[6]),
            "laboratory": pa.array(cols[7], pa.string()),
        }
    )


def _duck_hash(table: pa.Table, expression: str) -> str:
    con = lake_mod.connect()
    con.register("t", table)
    hasher = ContentHasher()
    for batch in con.sql(f"SELECT {expression} FROM t").to_arrow_reader(7):  # small chunks: joins across them
        hasher.update(batch.column(0))
    con.close()
    return hasher.hexdigest()


@settings(max_examples=150, deadline=None)
@given(line_rows)
def test_duckdb_lines_hash_as_the_python_definition(rows: list[tuple[Any, ...]]) -> None:
    expected = content_hash(canonical_line(*r) for r in rows)
    assert _duck_hash(_arrow(rows, naive=False), LINE_SQL) == expected
    assert _duck_hash(_arrow(rows, naive=True), line_sql(naive_utc=True)) == expected


def test_the_canonical_line_and_hash_spelled_out() -> None:
    ts = datetime(2024, 1, 31, 16, 0, tzinfo=UTC)
    line = canonical_line("P1", "consumption_mass", ts, 1.5, "t")
    assert line == "P1\tconsumption_mass\t2024-01-31T16:00:00.000000Z\t1.5\tt\t\t\t"
    second = canonical_line("P1", "ncv", ts, 100.0, "GJ/t", "S-1", ts + timedelta(days=2), "中心化验室")
    assert second.endswith("\t100.0\tGJ/t\tS-1\t2024-02-02T16:00:00.000000Z\t中心化验室")
    assert content_hash([line, second]) == hashlib.sha256(f"{line}\n{second}".encode()).hexdigest()
    assert content_hash([]) == hashlib.sha256(b"").hexdigest()


def test_the_chain_hash_is_the_contract_formula() -> None:
    metadata = {"seq": 1, "org": ORG, "files": [], "user": "张伟"}
    expected = hashlib.sha256(
        (ZERO_HASH + "ab" * 32).encode()
        + '{"files":[],"org":"91500000000000000X","seq":1,"user":"张伟"}'.encode()
    ).hexdigest()
    assert (
        canonical_json(metadata) == '{"files":[],"org":"91500000000000000X","seq":1,"user":"张伟"}'.encode()
    )
    assert chain_hash(ZERO_HASH, "ab" * 32, metadata) == expected


def build_lake(root: Path) -> list[BatchRecord]:
    """Three batches over two points and two months."""
    first = add_batch(
        root, rows("P1", "2024-01-31 22:00", [1.5, 2.25, 3.0, 4.0, 5.5, 6.0, 7.0, 8.0, 9.0, 10.0]), seq=1
    )
    second = add_batch(root, rows("P2", "2024-02-03 00:00", [0.5, 0.75, 1.0]), seq=2, prev=first.chain_hash)
    third = add_batch(root, rows("P1", "2024-03-01 00:00", [11.0, 12.0]), seq=3, prev=second.chain_hash)
    return [first, second, third]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[BatchRecord]]:
    root = tmp_path_factory.mktemp("ledger") / "lake"
    return root, build_lake(root)


def test_a_sound_lake_verifies(template: tuple[Path, list[BatchRecord]]) -> None:
    root, batches = template
    result = verify(root, batches)
    assert result.ok and result.first_broken is None and (result.batches, result.files) == (3, 4)


ALTERATIONS = ("value", "point", "ts", "drop", "duplicate", "batch")


def _alter(path: Path, row: int, how: str) -> None:
    table = pq.read_table(path)
    row = row % table.num_rows
    data = table.to_pylist()
    if how == "drop":
        del data[row]
    elif how == "duplicate":
        data.insert(row, dict(data[row]))
    elif how == "value":
        data[row]["value"] = data[row]["value"] + 0.001
    elif how == "point":
        data[row]["point"] = data[row]["point"] + "x"
    elif how == "ts":
        data[row]["ts"] = data[row]["ts"] + timedelta(microseconds=1)
    else:
        data[row]["batch"] = data[row]["batch"] + 1
    pq.write_table(pa.Table.from_pylist(data, schema=table.schema), path, compression="zstd")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file=st.integers(0, 3), row=st.integers(0, 20), how=st.sampled_from(ALTERATIONS))
def test_any_single_row_alteration_names_its_batch(
    template: tuple[Path, list[BatchRecord]], file: int, row: int, how: str
) -> None:
    root, batches = template
    files = [(b.seq, f.path) for b in batches for f in b.files]
    seq, rel = files[file]
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "lake"
        shutil.copytree(root, copy)
        _alter(copy / rel, row, how)
        result = verify(copy, batches)
    assert result.first_broken == seq
    assert {p.seq for p in result.problems} == {seq}
    kinds = {p.kind for p in result.problems}
    assert "file_altered" in kinds
    assert kinds & {"rows_altered", "rows_added", "rows_removed"}


def test_a_missing_an_added_and_a_staged_file_are_named(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    batches = build_lake(root)
    (root / batches[1].files[0].path).unlink()
    stray = root / f"org={ORG}/y=2024/m=03/b00000003-9.parquet"
    shutil.copyfile(root / batches[2].files[0].path, stray)
    anonymous = root / f"org={ORG}/y=2024/m=03/extra.parquet"
    shutil.copyfile(root / batches[2].files[0].path, anonymous)
    result = verify(root, batches)
    found = {(p.seq, p.kind, p.path) for p in result.problems}
    assert (2, "file_missing", batches[1].files[0].path) in found
    assert (3, "file_unnamed", stray.relative_to(root).as_posix()) in found
    assert (None, "file_unnamed", anonymous.relative_to(root).as_posix()) in found
    assert result.first_broken == 2


def test_a_committed_file_still_in_staging_says_so(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    first = add_batch(root, rows("P1", "2024-01-01 00:00", [1.0]), seq=1)
    pending = add_batch(
        root, rows("P1", "2024-01-02 00:00", [2.0]), seq=2, prev=first.chain_hash, publish=False
    )
    (problem,) = verify(root, [first, pending]).problems
    assert (problem.seq, problem.kind, problem.detail) == (
        2,
        "file_missing",
        "still in staging: run recovery",
    )


def test_edited_and_removed_batches_are_named(template: tuple[Path, list[BatchRecord]]) -> None:
    root, batches = template
    from dataclasses import replace

    edited = [batches[0], replace(batches[1], metadata={**batches[1].metadata, "reason": "x"}), batches[2]]
    assert verify(root, edited, content=False).first_broken == 2
    recount = [batches[0], replace(batches[1], rows=99), batches[2]]
    assert {(p.seq, p.kind) for p in verify(root, recount, content=False).problems} == {(2, "batch_altered")}
    rehashed = [batches[0], batches[1], replace(batches[2], content_hash="0" * 64)]
    assert {(p.seq, p.kind) for p in verify(root, rehashed).problems} == {
        (3, "chain_hash"),
        (3, "rows_altered"),
    }
    removed = verify(root, [batches[0], batches[2]])
    assert removed.first_broken == 2  # its files are now named by no batch
    assert {(p.seq, p.kind) for p in removed.problems} >= {
        (3, "batch_missing"),
        (3, "chain_link"),
        (2, "file_unnamed"),
    }
