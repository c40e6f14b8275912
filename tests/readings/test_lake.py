"""The Parquet lake on real files: partition layout in Asia/Shanghai months, views, crash recovery forward
and back, the writer lock across processes, and look-ups that read only the partitions a batch touches.

:func:`add_batch` publishes a batch the way the service does (validate, stage, record, move) without a
database; the ledger and retention tests use it too."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from carbonmeter.readings import ingest
from carbonmeter.readings import lake as lake_mod
from carbonmeter.readings.ledger import ZERO_HASH, BatchRecord, batch_metadata, chain_hash

ORG = "91500000000000000X"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
PLAN = ingest.Plan(
    ORG,
    {
        "P1": ingest.PointPlan("P1", "consumption_mass", 0.0, 1000.0),
        "P2": ingest.PointPlan("P2", "electricity", 0.0, None),
        "L1": ingest.PointPlan("L1", "ncv"),
    },
)


def add_batch(
    lake: Path,
    rows: Sequence[Mapping[str, Any]],
    *,
    seq: int,
    prev: str = ZERO_HASH,
    org: str = ORG,
    publish: bool = True,
    correction: ingest.Correction | None = None,
) -> BatchRecord:
    """Validate ``rows`` and publish them as batch ``seq`` (what services.ingest does, minus the database)."""
    plan = ingest.Plan(org, PLAN.points)
    source = ingest.from_rows(rows, filename=f"batch-{seq}")
    outcome = ingest.validate(source, plan, lake=lake, now=NOW, correction=correction)
    staged = lake_mod.stage(lake, org, seq, outcome.accepted)
    created = datetime(2025, 1, seq, 8, 30, tzinfo=UTC)
    metadata = batch_metadata(
        seq=seq,
        org=org,
        source="cli",
        filename=f"batch-{seq}",
        rows=staged.rows,
        files=staged.files,
        corrects=correction.corrects if correction else None,
        reason="",
        user=None,
        created_at=created,
    )
    record = BatchRecord(
        seq=seq,
        org=org,
        source="cli",
        filename=f"batch-{seq}",
        rows=staged.rows,
        content_hash=outcome.content_hash,
        prev_chain_hash=prev,
        chain_hash=chain_hash(prev, outcome.content_hash, metadata),
        metadata=metadata,
        files=staged.files,
        corrects=correction.corrects if correction else None,
        created_at=created,
    )
    if publish:
        lake_mod.publish(staged)
    return record


def rows(point: str, start: str, values: Sequence[float], step_minutes: int = 15) -> list[dict[str, Any]]:
    t0 = datetime.fromisoformat(start)
    from datetime import timedelta

    return [
        {"point": point, "ts": (t0 + timedelta(minutes=step_minutes * i)).isoformat(sep=" "), "value": v}
        for i, v in enumerate(values)
    ]


def test_partitions_are_asia_shanghai_months(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    record = add_batch(lake, rows("P1", "2024-01-31 23:30", [1, 2, 3, 4]), seq=7)
    assert [f.path for f in record.files] == [
        f"org={ORG}/y=2024/m=01/b00000007-0.parquet",
        f"org={ORG}/y=2024/m=02/b00000007-1.parquet",
    ]
    assert [f.rows for f in record.files] == [2, 2]
    meta = pq.ParquetFile(lake / record.files[0].path)
    assert meta.schema_arrow == lake_mod.FILE_SCHEMA
    assert meta.metadata.row_group(0).column(0).compression == "ZSTD"
    table = pq.read_table(lake / record.files[1].path)
    assert table.column("batch").to_pylist() == [7, 7]
    assert [t.isoformat() for t in table.column("ts").to_pylist()] == [
        "2024-01-31T16:00:00+00:00",  # 00:00 on 1 February in Beijing
        "2024-01-31T16:15:00+00:00",
    ]


def test_views_read_the_hive_columns_with_their_types(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    digits = "123456789012345678"  # an all-digit credit code must stay text
    add_batch(lake, rows("P1", "2024-03-01 00:00", [1, 2]), seq=1, org=digits)
    con = lake_mod.connect()
    lake_mod.register(con, lake)
    cols = dict(con.sql("SELECT column_name, column_type FROM (DESCRIBE readings)").fetchall())
    assert (cols["org"], cols["y"], cols["m"], cols["ts"]) == (
        "VARCHAR",
        "INTEGER",
        "INTEGER",
        "TIMESTAMP WITH TIME ZONE",
    )
    assert con.sql("SELECT DISTINCT org, y, m FROM readings").fetchall() == [(digits, 2024, 3)]
    assert set(cols) == set(lake_mod.SCHEMA.names)


def test_an_empty_lake_has_empty_views(tmp_path: Path) -> None:
    con = lake_mod.connect()
    lake_mod.register(con, tmp_path / "nothing-yet")
    assert con.sql("SELECT count(*) FROM readings_effective").fetchall() == [(0,)]
    assert lake_mod.relation(con, tmp_path).columns == lake_mod.SCHEMA.names


def test_the_effective_view_takes_the_latest_batch(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    first = add_batch(lake, rows("P1", "2024-03-01 00:00", [1, 2]), seq=1)
    correction = ingest.Correction(1, frozenset({1}))
    add_batch(lake, rows("P1", "2024-03-01 00:15", [5]), seq=2, prev=first.chain_hash, correction=correction)
    con = lake_mod.connect()
    lake_mod.register(con, lake)
    assert con.sql("SELECT value FROM readings_effective ORDER BY ts").fetchall() == [(1.0,), (5.0,)]
    assert con.sql("SELECT count(*) FROM readings").fetchall() == [(3,)]


def test_recovery_rolls_a_committed_batch_forward(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    record = add_batch(lake, rows("P1", "2024-01-31 23:30", [1, 2, 3, 4]), seq=1, publish=False)
    paths = [f.path for f in record.files]
    assert lake_mod.data_files(lake) == []  # staged only: invisible
    done = lake_mod.recover(lake, lambda asked: set(asked) & set(paths))
    assert done.rolled_forward == paths and done.rolled_back == []
    assert lake_mod.data_files(lake) == paths
    assert list((lake / lake_mod.STAGING).iterdir()) == []
    assert lake_mod.recover(lake, lambda asked: set(asked)).rolled_forward == []  # nothing left to do


def test_recovery_rolls_an_uncommitted_batch_back(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    add_batch(lake, rows("P1", "2024-01-31 23:30", [1, 2]), seq=1)
    add_batch(lake, rows("P1", "2024-05-01 00:00", [3]), seq=2, publish=False)
    done = lake_mod.recover(lake, lambda asked: set())
    assert len(done.rolled_back) == 1 and done.rolled_forward == []
    assert lake_mod.data_files(lake) == [f"org={ORG}/y=2024/m=01/b00000001-0.parquet"]


def test_recovery_finishes_a_half_done_move(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    outcome = ingest.validate(
        ingest.from_rows(rows("P1", "2024-01-31 23:30", [1, 2, 3, 4])), PLAN, lake=lake, now=NOW
    )
    staged = lake_mod.stage(lake, ORG, 1, outcome.accepted)

    class Crash(Exception):
        pass

    def crash_after_first(i: int) -> None:
        if i == 0:
            raise Crash

    with pytest.raises(Crash):
        lake_mod.publish(staged, after_each=crash_after_first)
    assert lake_mod.data_files(lake) == [staged.files[0].path]
    lake_mod.recover(lake, lambda asked: set(asked))
    assert lake_mod.data_files(lake) == [f.path for f in staged.files]


def test_the_writer_lock_holds_across_processes(tmp_path: Path) -> None:
    probe = (
        "import fcntl, os, sys\n"
        f"fd = os.open({str(tmp_path / lake_mod.LOCK)!r}, os.O_RDWR)\n"
        "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept BlockingIOError:\n    sys.exit(3)\n"
    )
    with lake_mod.writer_lock(tmp_path):
        held = subprocess.run([sys.executable, "-c", probe], check=False)
    free = subprocess.run([sys.executable, "-c", probe], check=False)
    assert (held.returncode, free.returncode) == (3, 0)


def test_lookups_read_only_the_partitions_touched(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    add_batch(lake, rows("P1", "2024-03-01 00:00", [1, 2]), seq=1)
    other = add_batch(lake, rows("P1", "2024-07-01 00:00", [1]), seq=2)
    (lake / other.files[0].path).write_bytes(b"not parquet: never read for a March batch")
    outcome = ingest.validate(
        ingest.from_rows(rows("P1", "2024-03-01 00:00", [1, 9])), PLAN, lake=lake, now=NOW
    )
    assert [(q.row, q.code) for q in outcome.quarantined] == [(2, "RD-CONFLICT")]
    assert outcome.duplicates == [(1, 1, 1)]
