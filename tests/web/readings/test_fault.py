"""Crash safety with real processes: ``carbonmeter ingest`` is SIGKILLed at each stage of a publication
(after staging, after the commit, in the middle of moving files, and at random moments), then recovered.
Readers never see part of a batch, nothing is stored twice, and the ledger verifies. Then the lake and the
database are tampered with, and ``carbonmeter ledger verify`` names the batch.

The subprocesses use a file-based SQLite database and a lake in the test's temporary folder (a subprocess
cannot see a test transaction).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from carbonmeter.readings import lake as lake_mod
from carbonmeter.readings import sums

from .conftest import CREDIT, ROOT, Installation

POINTS = {"P1": 60.0, "P3": 80.0, "P4": 40.0}  # value ceilings inside the profiles' ranges


def big_csv(folder: Path, days: int = 75) -> tuple[Path, Counter[str]]:
    """Readings every 15 minutes for three points from mid-January: three months, three files a batch."""
    start = datetime(2024, 1, 15)
    lines = ["point,ts,value,unit"]
    per_point: Counter[str] = Counter()
    for i in range(days * 96):
        ts = (start + timedelta(minutes=15 * i)).isoformat(sep=" ")
        for point, top in POINTS.items():
            lines.append(
                f"{point},{ts},{(i * 7 % 1000) / 1000 * top:.3f},t"
                if point != "P4"
                else f"P4,{ts},{(i % 50) / 10},MWh"
            )
            per_point[point] += 1
    path = folder / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, per_point


def start_ingest(inst: Installation, path: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "carbonmeter.cli.main", "ingest", str(path), "--org", CREDIT],
        env=inst.env | env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_when(proc: subprocess.Popen[str], marker: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(
                f"ingest ended before pausing: {proc.returncode} {proc.stderr.read() if proc.stderr else ''}"
            )
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("ingest never reached the pause")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def batches(inst: Installation) -> list[tuple[int, int]]:
    with sqlite3.connect(inst.db) as db:
        return db.execute("SELECT seq, rows FROM readings_readingbatch ORDER BY seq").fetchall()


def visible_rows(inst: Installation) -> Counter[str]:
    """Rows per point as a reader of the lake sees them (only files in place)."""
    con = lake_mod.connect()
    lake_mod.register(con, inst.lake)
    counts = Counter(dict(con.sql("SELECT point, count(*) FROM readings GROUP BY point").fetchall()))
    con.close()
    return counts


def staged_files(inst: Installation, pattern: str = "**/*.parquet") -> list[Path]:
    """Files in staging: every file by default; ``DATA`` or ``SUMS`` for data files or their day sums."""
    return (
        sorted((inst.lake / lake_mod.STAGING).glob(pattern))
        if (inst.lake / lake_mod.STAGING).exists()
        else []
    )


DATA = "*/org=*/y=*/m=*/*.parquet"
SUMS = f"*/{sums.SUMS}/org=*/y=*/m=*/*.parquet"


def recover_and_verify(inst: Installation) -> None:
    done = inst.cli("ledger", "recover")
    assert done.returncode == 0, done.stderr
    check = inst.cli("ledger", "verify")
    assert check.returncode == 0, check.stdout + check.stderr
    assert staged_files(inst) == []


@pytest.mark.parametrize("stage", ["staged", "committed", "moving"])
def test_a_kill_at_each_stage_leaves_all_or_nothing(
    installation: Installation, tmp_path: Path, stage: str
) -> None:
    path, per_point = big_csv(tmp_path)
    marker = tmp_path / "paused"
    proc = start_ingest(
        installation, path, CARBONMETER_INGEST_PAUSE=stage, CARBONMETER_INGEST_PAUSE_MARKER=str(marker)
    )
    kill_when(proc, marker)
    if stage == "staged":
        assert batches(installation) == [] and visible_rows(installation) == Counter()
        assert len(staged_files(installation, DATA)) == 3  # written, fsynced, invisible
        assert len(staged_files(installation, SUMS)) == 3  # with their day sums
    elif stage == "committed":
        assert batches(installation) == [(1, sum(per_point.values()))]
        assert visible_rows(installation) == Counter()  # committed but not yet moved: still invisible
    else:
        assert len(staged_files(installation, DATA)) == 2  # one of three files moved when the process died
        assert len(staged_files(installation, SUMS)) == 2  # its day sums moved first
    recover_and_verify(installation)
    expected = Counter() if stage == "staged" else per_point
    assert visible_rows(installation) == expected
    again = installation.cli("ingest", str(path), "--org", CREDIT, "--lang", "en")
    assert again.returncode == 0, again.stderr
    if stage == "staged":
        assert "stored as batch #1" in again.stdout
    else:
        assert "already stored as batch #1" in again.stdout
    assert batches(installation) == [(1, sum(per_point.values()))]
    assert visible_rows(installation) == per_point  # nothing stored twice
    recover_and_verify(installation)


def test_kills_at_random_moments(installation: Installation, tmp_path: Path) -> None:
    path, per_point = big_csv(tmp_path, days=40)
    rng = random.Random(20261124)
    for attempt in range(3):
        proc = start_ingest(installation, path)
        time.sleep(rng.uniform(0.5, 4.0))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        recover_and_verify(installation)
        seen = visible_rows(installation)
        assert seen in (Counter(), per_point), f"attempt {attempt}: a partial batch is visible: {seen}"
        assert len(batches(installation)) <= 1
    done = installation.cli("ingest", str(path), "--org", CREDIT)
    assert done.returncode == 0, done.stderr
    assert visible_rows(installation) == per_point and len(batches(installation)) == 1
    recover_and_verify(installation)


@pytest.fixture
def three_batches(installation: Installation, tmp_path: Path) -> Installation:
    for i, month in enumerate(("2024-01", "2024-02", "2024-03")):
        path = tmp_path / f"{month}.csv"
        path.write_text(
            "point,ts,value\n" + "".join(f"P1,{month}-0{d} 00:00,{d + i}\n" for d in range(1, 8)),
            encoding="utf-8",
        )
        done = installation.cli("ingest", str(path), "--org", CREDIT)
        assert done.returncode == 0, done.stderr
    assert installation.cli("ledger", "verify").returncode == 0
    return installation


def file_of(inst: Installation, seq: int) -> Path:
    with sqlite3.connect(inst.db) as db:
        (rel,) = db.execute(
            "SELECT f.path FROM readings_batchfile f JOIN readings_readingbatch b ON f.batch_id = b.id "
            "WHERE b.seq = ?",
            (seq,),
        ).fetchone()
    return inst.lake / rel


def broken(inst: Installation) -> str:
    check = inst.cli("ledger", "verify")
    assert check.returncode == 1, check.stdout
    return check.stdout


def test_an_altered_row_names_its_batch(three_batches: Installation) -> None:
    path = file_of(three_batches, 2)
    table = pq.read_table(path)
    values = table.column("value").to_pylist()
    values[3] += 1
    pq.write_table(table.set_column(table.schema.get_field_index("value"), "value", [values]), path)
    out = broken(three_batches)
    assert "first broken batch: #2" in out and "file_altered" in out and "rows_altered" in out


def test_a_deleted_file_names_its_batch(three_batches: Installation) -> None:
    file_of(three_batches, 3).unlink()
    out = broken(three_batches)
    assert "first broken batch: #3" in out and "file_missing" in out


def test_an_added_file_is_listed(three_batches: Installation) -> None:
    source = file_of(three_batches, 1)
    (source.parent / "b00000001-5.parquet").write_bytes(source.read_bytes())
    out = broken(three_batches)
    assert "first broken batch: #1" in out and "file_unnamed" in out and "b00000001-5.parquet" in out


def test_an_edited_batch_row_names_its_batch(three_batches: Installation) -> None:
    with sqlite3.connect(three_batches.db) as db:
        db.execute("UPDATE readings_readingbatch SET filename = 'other.csv' WHERE seq = 2")
    out = broken(three_batches)
    assert "first broken batch: #2" in out and "batch_altered" in out


def test_a_deleted_batch_row_is_found(three_batches: Installation) -> None:
    with sqlite3.connect(three_batches.db) as db:
        db.execute("PRAGMA foreign_keys = OFF")
        (pk,) = db.execute("SELECT id FROM readings_readingbatch WHERE seq = 2").fetchone()
        db.execute("DELETE FROM readings_batchfile WHERE batch_id = ?", (pk,))
        db.execute("UPDATE readings_ingestrun SET batch_id = NULL WHERE batch_id = ?", (pk,))
        db.execute("DELETE FROM readings_readingbatch WHERE id = ?", (pk,))
    out = broken(three_batches)
    assert "first broken batch: #2" in out and "batch_missing" in out and "file_unnamed" in out


def media_copies(inst: Installation) -> list[Path]:
    media = inst.db.parent / "var" / "media"
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


@pytest.mark.parametrize("stage", ["keeping", "copied"])
def test_a_kill_while_keeping_the_source_is_finished_or_reported(
    installation: Installation, tmp_path: Path, stage: str
) -> None:
    """Issue 9: a crash after the commit left runs without their source file, or a truncated copy in
    media/. The copy is written as a part file, fsynced and renamed; recovery finishes a whole part file
    and lists a run whose copy is missing (ingesting the same file again attaches it)."""
    path, _per_point = big_csv(tmp_path, days=20)
    marker = tmp_path / "paused"
    proc = start_ingest(
        installation, path, CARBONMETER_INGEST_PAUSE=stage, CARBONMETER_INGEST_PAUSE_MARKER=str(marker)
    )
    kill_when(proc, marker)
    copies = media_copies(installation)
    if stage == "keeping":
        assert copies == []
        done = installation.cli("ledger", "recover")
        assert done.returncode == 0, done.stderr
        assert "run 1 missing big.csv: missing" in done.stdout
        assert "1 run(s) without a whole source file" in done.stdout
        again = installation.cli("ingest", str(path), "--org", CREDIT, "--lang", "en")
        assert "already stored as batch #1" in again.stdout
    else:
        assert [p.name for p in copies] == [".big.csv.part"] and copies[0].read_bytes() == path.read_bytes()
        done = installation.cli("ledger", "recover")
        assert done.returncode == 0 and "run 1: source file copy finished" in done.stdout
    (kept,) = media_copies(installation)
    assert kept.name == "big.csv" and kept.read_bytes() == path.read_bytes()
    clean = installation.cli("ledger", "recover")
    assert "without a whole source file" not in clean.stdout and "finished" not in clean.stdout
    recover_and_verify(installation)


def test_a_truncated_source_copy_is_reported(installation: Installation, tmp_path: Path) -> None:
    path, _per_point = big_csv(tmp_path, days=2)
    assert installation.cli("ingest", str(path), "--org", CREDIT).returncode == 0
    (kept,) = media_copies(installation)
    whole = kept.read_bytes()
    kept.write_bytes(whole[: len(whole) // 2])
    done = installation.cli("ledger", "recover")
    assert f"run 1 truncated big.csv: {len(whole) // 2} of {len(whole)} bytes" in done.stdout
    kept.write_bytes(whole[:-1] + b"X")
    assert "run 1 altered big.csv: sha256 differs" in installation.cli("ledger", "recover").stdout
    manage = installation.run("manage.py", "readings_recover")
    assert manage.returncode == 0 and "run 1 altered big.csv" in manage.stdout
