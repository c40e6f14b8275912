"""``services.ingest`` against the real database (SQLite, and PostgreSQL with DATABASE_URL) and a real lake:
batches and the chain, quarantine kept in the database, idempotency, duplicates, conflicts and corrections,
re-submission, tampering found by the ledger check, retention."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from carbonmeter.readings import lake as lake_mod
from carbonmeter.readings.ingest import IngestError
from carbonmeter.readings.ledger import ZERO_HASH, chain_hash
from carbonmeter.readings.retention import RetentionError, verify_archive
from carbonmeter.rules.loader import builtin_pack_files, load_pack
from carbonmeter.web.readings import services
from carbonmeter.web.readings.models import (
    ArchivedPartition,
    BatchFile,
    IngestRun,
    PointProfile,
    QuarantinedRow,
    ReadingBatch,
)
from carbonmeter.web.registry.models import MeasuringPoint, Organization, SourceStream

from .conftest import CREDIT

HEADER = "point,ts,value,unit\n"
CQ_PACK = next(f for f in builtin_pack_files() if f.parts[-3] == "cq-part1")
FOUR = (
    HEADER + "P1,2024-01-31 23:30,1.5,t\nP1,2024-01-31 23:45,1.25,t\n"
    "P1,2024-02-01 00:00,1500,kg\nP1,2024-02-01 00:15,2,t\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def effective(lake: Path) -> dict[tuple[str, str], float]:
    """(point, local time) → effective value, read back through the lake's views."""
    con = lake_mod.connect()
    lake_mod.register(con, lake)
    rows = con.sql(
        "SELECT point, strftime(ts, '%Y-%m-%d %H:%M'), value FROM readings_effective ORDER BY ALL"
    ).fetchall()
    con.close()
    return {(p, t): v for p, t, v in rows}


def test_a_file_becomes_one_batch_with_its_files_in_place(
    plant: Organization, lake: Path, tmp_path: Path
) -> None:
    run = services.ingest(plant, source="upload", path=write(tmp_path, "jan.csv", FOUR))
    assert (run.rows_total, run.rows_accepted, run.rows_duplicate, run.rows_quarantined) == (4, 4, 0, 0)
    batch = run.batch
    assert batch is not None and batch.rows == 4 and batch.prev_chain_hash == ZERO_HASH
    assert batch.chain_hash == chain_hash(ZERO_HASH, batch.content_hash, batch.metadata)
    paths = sorted(BatchFile.objects.filter(batch=batch).values_list("path", flat=True))
    assert paths == [
        f"org={CREDIT}/y=2024/m=01/b{batch.seq:08d}-0.parquet",  # 23:30 and 23:45 on 31 January, Beijing time
        f"org={CREDIT}/y=2024/m=02/b{batch.seq:08d}-1.parquet",  # 00:00 on 1 February is still 31 January UTC
    ]
    assert lake_mod.data_files(lake) == paths
    assert not any((lake / lake_mod.STAGING).iterdir())
    assert run.report["accepted"] == [[2, 5]] and run.report["batch"] == batch.seq
    assert effective(lake)[("P1", "2024-02-01 00:00")] == 1.5  # 1500 kg stored in t
    assert services.verify_ledger().ok


def test_quarantined_rows_are_kept_with_where_and_why(
    plant: Organization, lake: Path, tmp_path: Path
) -> None:
    text = (
        "计量点,时间,数值,单位\nP1,2024-03-01 00:00,abc,t\nP9,2024-03-01 00:00,1,t\n"
        "P1,2024-03-01 00:15,1,MWh\nP1,2024-03-01 00:30,3,t\n"
    )
    run = services.ingest(plant, source="upload", path=write(tmp_path, "m.csv", text))
    assert (run.rows_accepted, run.rows_quarantined) == (1, 3)
    rows = {q.row: q for q in QuarantinedRow.objects.filter(run=run)}
    assert {r: (q.code, q.column) for r, q in rows.items()} == {
        2: ("RD-PARSE", "数值"),
        3: ("RD-POINT", "计量点"),
        4: ("RD-UNIT", "单位"),
    }
    assert rows[2].raw == {"计量点": "P1", "时间": "2024-03-01 00:00", "数值": "abc", "单位": "t"}
    assert "abc" in rows[2].reason and "数值" in rows[2].reason
    assert rows[3].reason_in("en") == "point 'P9' is not in the organization's monitoring plan"
    assert rows[4].state == "open" and rows[4].organization_id == plant.pk


def test_the_same_content_twice_is_stored_once(plant: Organization, lake: Path, tmp_path: Path) -> None:
    first = services.ingest(plant, source="upload", path=write(tmp_path, "a.csv", FOUR))
    again = services.ingest(plant, source="cli", path=write(tmp_path, "a-again.csv", FOUR))
    assert again.batch is None and again.report["held_by"] == first.batch.seq
    assert (again.rows_accepted, again.rows_duplicate) == (0, 4)
    assert again.report["duplicate"] == [{"rows": [2, 5], "batch": first.batch.seq}]
    assert ReadingBatch.objects.count() == 1 and len(lake_mod.data_files(lake)) == 2


def test_overlapping_files_store_only_the_new_rows(plant: Organization, lake: Path, tmp_path: Path) -> None:
    first = services.ingest(plant, source="upload", path=write(tmp_path, "a.csv", FOUR))
    text = HEADER + "P1,2024-02-01 00:15,2,t\nP1,2024-02-01 00:30,3,t\nP1,2024-02-01 00:30,3,t\n"
    run = services.ingest(plant, source="upload", path=write(tmp_path, "b.csv", text))
    assert (run.rows_accepted, run.rows_duplicate, run.rows_quarantined) == (1, 2, 0)
    assert run.report["duplicate"] == [{"rows": [2, 2], "batch": first.batch.seq}, {"rows": [4, 4], "row": 3}]
    assert run.batch.seq == first.batch.seq + 1 and run.batch.prev_chain_hash == first.batch.chain_hash


def test_a_different_value_needs_a_correction(
    plant: Organization, clerk: Any, lake: Path, tmp_path: Path
) -> None:
    first = services.ingest(plant, source="upload", path=write(tmp_path, "a.csv", FOUR))
    fixed = HEADER + "P1,2024-01-31 23:45,1.75,t\n"
    refused = services.ingest(plant, source="upload", path=write(tmp_path, "b.csv", fixed))
    (q,) = QuarantinedRow.objects.filter(run=refused)
    assert q.code == "RD-CONFLICT" and f"#{first.batch.seq}" in q.reason and refused.batch is None
    with pytest.raises(ValueError, match="reason"):
        services.ingest(
            plant, source="correction", path=write(tmp_path, "c.csv", fixed), corrects=first.batch
        )
    with pytest.raises(ValueError, match="user"):
        services.ingest(
            plant,
            source="correction",
            path=write(tmp_path, "c.csv", fixed),
            corrects=first.batch,
            reason="typo",
        )
    run = services.ingest(
        plant,
        source="correction",
        path=write(tmp_path, "c.csv", fixed),
        corrects=first.batch,
        reason="scale misread",
        user=clerk,
    )
    assert run.rows_accepted == 1 and run.report["superseded"] == 1
    assert run.batch.corrects == first.batch and run.batch.metadata["user"] == "clerk"
    assert effective(lake)[("P1", "2024-01-31 23:45")] == 1.75  # the latest batch's value is effective
    con = lake_mod.connect()
    lake_mod.register(con, lake)
    stored = con.sql(
        "SELECT batch, value FROM readings WHERE value IN (1.25, 1.75) ORDER BY batch"
    ).fetchall()
    assert stored == [(first.batch.seq, 1.25), (run.batch.seq, 1.75)]  # nothing updated in place
    assert services.verify_ledger().ok


def test_a_correction_supersedes_only_its_own_family(
    plant: Organization, clerk: Any, lake: Path, tmp_path: Path
) -> None:
    first = services.ingest(
        plant, source="upload", path=write(tmp_path, "a.csv", HEADER + "P1,2024-05-01,1,t\n")
    )
    services.ingest(plant, source="upload", path=write(tmp_path, "b.csv", HEADER + "P3,2024-05-01,1,t\n"))
    text = HEADER + "P1,2024-05-01,2,t\nP3,2024-05-01,2,t\n"
    run = services.ingest(
        plant,
        source="correction",
        path=write(tmp_path, "c.csv", text),
        corrects=first.batch,
        reason="r",
        user=clerk,
    )
    (q,) = QuarantinedRow.objects.filter(run=run)
    assert (q.row, q.code, q.variant) == (3, "RD-CONFLICT", "outside_correction")
    assert run.rows_accepted == 1


def test_a_fixed_row_resolves_its_quarantine(
    plant: Organization, clerk: Any, lake: Path, tmp_path: Path
) -> None:
    bad = services.ingest(
        plant, source="upload", path=write(tmp_path, "a.csv", HEADER + "P1,2024-06-01,-3,t\n")
    )
    (q,) = QuarantinedRow.objects.filter(run=bad)
    assert q.code == "RD-NEGATIVE"
    run = services.ingest(
        plant,
        source="resubmission",
        rows=[{"point": "P1", "ts": "2024-06-01", "value": 3, "unit": "t"}],
        resolves=[q],
        user=clerk,
        filename="a.csv #2",
    )
    q.refresh_from_db()
    assert q.state == "resubmitted" and q.resolved_by == run.batch and run.rows_accepted == 1
    with pytest.raises(ValueError, match="not open"):
        services.ingest(
            plant, source="resubmission", rows=[{"point": "P1", "ts": "2024-06-01", "value": 3}], resolves=[q]
        )


def test_rows_with_chinese_keys_and_missing_cells(plant: Organization, lake: Path) -> None:
    rows = [
        {"计量点": "P4", "时间": "2024-07-01T00:00:00+08:00", "数值": 1200, "单位": "kWh"},
        {"计量点": "P4", "时间": "2024-07-01T00:15:00+08:00"},
        {"计量点": "P2", "时间": "2024-07-01", "数值": 21.5, "样品编号": "S-1", "化验单位": "Lab"},
    ]
    run = services.ingest(plant, source="api", rows=rows, filename="api call")
    assert run.rows_accepted == 1
    codes = {q.row: (q.code, q.column) for q in QuarantinedRow.objects.filter(run=run)}
    assert codes == {2: ("RD-MISSING", "数值"), 3: ("RD-MISSING", "分析日期")}
    assert effective(lake)[("P4", "2024-07-01 00:00")] == 1.2  # kWh → MWh


def test_a_workbook_names_its_sheet(plant: Organization, lake: Path, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "说明"
    sheet = book.create_sheet("读数")
    sheet.append(["计量点", "时间", "数值"])
    sheet.append(["P1", "2024-08-01 00:00", 5])
    sheet.append(["P1", "2024-08-01 00:15", 500])
    path = tmp_path / "plant.xlsx"
    book.save(path)
    run = services.ingest(plant, source="upload", path=path)
    (q,) = QuarantinedRow.objects.filter(run=run)
    assert (q.sheet, q.row, q.column, q.code) == ("读数", 3, "数值", "RD-RANGE")
    assert run.report["sheet"] == "读数" and run.rows_accepted == 1


def test_a_source_that_cannot_be_read_records_nothing(
    plant: Organization, lake: Path, tmp_path: Path
) -> None:
    path = write(tmp_path, "bad.csv", "a,b\n1,2\n")
    with pytest.raises(IngestError) as caught:
        services.ingest(plant, source="upload", path=path)
    assert "point" in caught.value.message("en") and "bad.csv" in caught.value.message("en")
    assert IngestRun.objects.count() == 0


def test_a_file_over_the_configured_row_limit_records_nothing(
    plant: Organization, lake: Path, tmp_path: Path, settings: Any
) -> None:
    settings.CARBONMETER_INGEST_MAX_ROWS = 1
    path = write(tmp_path, "two.csv", HEADER + "P1,2024-01-01 00:00,1,t\nP1,2024-01-01 00:15,1,t\n")
    with pytest.raises(IngestError) as caught:
        services.ingest(plant, source="upload", path=path)
    assert (
        caught.value.message("en")
        == "two.csv has about 2 rows, more than the 1 one batch may hold: split it by month"
    )
    assert IngestRun.objects.count() == 0 and ReadingBatch.objects.count() == 0


def test_a_run_with_nothing_to_store_writes_no_batch(plant: Organization, lake: Path, tmp_path: Path) -> None:
    run = services.ingest(
        plant, source="upload", path=write(tmp_path, "a.csv", HEADER + "P5,2024-01-01,1,t\n")
    )
    assert run.batch is None and run.rows_quarantined == 1 and ReadingBatch.objects.count() == 0
    assert QuarantinedRow.objects.get(run=run).variant == "no_profile"


def _second_org() -> Organization:
    org = Organization(name="另一家公司", credit_code="91500000000000001Y")
    org._change_reason = "test"
    org.save()
    stream = SourceStream(
        organization=org, code="S1", kind="fuel_combustion", method="calculation", annual_emissions_t=1.0
    )
    stream.save()
    point = MeasuringPoint(
        organization=org, code="P1", stream=stream, role="activity_data", parameter="consumption"
    )
    point.save()
    PointProfile(organization=org, point=point, quantity="consumption_mass", expected_interval=900).save()
    return org


def test_the_chain_is_one_for_the_installation(plant: Organization, lake: Path, tmp_path: Path) -> None:
    other = _second_org()
    a = services.ingest(plant, source="upload", path=write(tmp_path, "a.csv", HEADER + "P1,2024-01-01,1,t\n"))
    b = services.ingest(other, source="upload", path=write(tmp_path, "b.csv", HEADER + "P1,2024-01-01,1,t\n"))
    assert (a.batch.seq, b.batch.seq) == (1, 2) and b.batch.prev_chain_hash == a.batch.chain_hash
    assert a.batch.content_hash == b.batch.content_hash  # same rows, different organizations: both stored
    assert lake_mod.data_files(lake) == [
        f"org={CREDIT}/y=2024/m=01/b00000001-0.parquet",
        "org=91500000000000001Y/y=2024/m=01/b00000002-0.parquet",
    ]
    assert services.verify_ledger().ok


def test_an_edited_batch_row_is_named(plant: Organization, lake: Path, tmp_path: Path) -> None:
    for i in range(3):
        services.ingest(
            plant, source="upload", path=write(tmp_path, f"{i}.csv", HEADER + f"P1,2024-01-0{i + 1},1,t\n")
        )
    assert services.verify_ledger().ok
    ReadingBatch.objects.filter(seq=2).update(
        rows=7
    )  # bypasses the model's append-only guard, like SQL would
    result = services.verify_ledger()
    assert result.first_broken == 2 and {p.kind for p in result.problems} == {"batch_altered"}
    ReadingBatch.objects.filter(seq=2).update(rows=1, filename="other.csv")
    assert services.verify_ledger().first_broken == 2
    ReadingBatch.objects.filter(seq=2).update(filename="1.csv", content_hash="0" * 64)
    kinds = {(p.seq, p.kind) for p in services.verify_ledger().problems}
    assert (2, "chain_hash") in kinds and (2, "rows_altered") in kinds


def test_old_months_are_archived_then_deleted_and_young_ones_never(
    plant: Organization, clerk: Any, lake: Path, tmp_path: Path
) -> None:
    text = HEADER + "P1,2015-03-01,1,t\nP1,2015-04-01,2,t\nP1,2024-03-01,3,t\n"
    services.ingest(plant, source="upload", path=write(tmp_path, "a.csv", text))
    today = date(2026, 11, 24)
    with pytest.raises(RetentionError, match="younger than 5 years"):
        services.archive((2022, 1), tmp_path / "too-young", today=today)
    with pytest.raises(RetentionError, match="not archived"):
        services.delete_archived((2016, 1), user=clerk, reason="retention", today=today)
    manifest = services.archive((2016, 1), tmp_path / "export", user=clerk, today=today)
    assert [(p.y, p.m) for p in manifest.partitions] == [(2015, 3), (2015, 4)]
    assert verify_archive(tmp_path / "export").ok
    assert ArchivedPartition.objects.filter(deleted_at__isnull=True).count() == 2
    with pytest.raises(RetentionError, match="younger"):
        services.delete_archived((2025, 1), user=clerk, reason="retention", today=today)
    deleted = services.delete_archived((2016, 1), user=clerk, reason="retention", today=today)
    assert len(deleted) == 2 and lake_mod.data_files(lake) == [
        f"org={CREDIT}/y=2024/m=03/b00000001-2.parquet"
    ]
    assert services.verify_ledger().ok  # the deleted files left lawfully; the rest still verifies
    assert ArchivedPartition.objects.filter(deleted_at__isnull=False).count() == 2


def test_the_retention_period_is_the_packs_and_settings_only_lengthen_it(
    plant: Organization, clerk: Any, lake: Path, tmp_path: Path, settings: Any
) -> None:
    """6.4.6's five years come from the rule pack (data with provenance); ``CARBONMETER_RETENTION_YEARS``
    may lengthen the period, never shorten it, and an organization on a pack with a longer period wins."""
    pack = load_pack(settings.CARBONMETER_DEFAULT_PACK).settings.data_retention_years
    assert (pack.value, pack.tag) == (5, "seed")
    settings.CARBONMETER_RETENTION_YEARS = None
    assert services.retention_years() == 5
    settings.CARBONMETER_RETENTION_YEARS = 2
    assert services.retention_years() == 5
    services.ingest(plant, source="upload", path=write(tmp_path, "a.csv", HEADER + "P1,2019-03-01,1,t\n"))
    with pytest.raises(RetentionError, match="younger than 5 years"):  # 2 would have allowed it
        services.archive((2022, 1), tmp_path / "x", today=date(2026, 11, 24))
    settings.CARBONMETER_RETENTION_YEARS = 8
    assert services.retention_years() == 8
    with pytest.raises(RetentionError, match="younger than 8 years"):
        services.archive((2019, 4), tmp_path / "y", today=date(2026, 11, 24))
    settings.CARBONMETER_RETENTION_YEARS = None
    text = CQ_PACK.read_text(encoding="utf-8").replace(
        "data_retention_years: {value: 5,", "data_retention_years: {value: 10,"
    )
    longer = tmp_path / "longer.yaml"
    longer.write_text(text, encoding="utf-8")
    plant.pack = str(longer)
    plant._change_reason = "test"
    plant.save()
    assert services.retention_years() == 10


# --- issue 9: what the database alone cannot prove --------------------------------------------------------


def remove_newest_batch(lake: Path) -> ReadingBatch:
    """Cut the newest batch off the end of the chain as someone with the database and the disk would: its
    rows (raw SQL, past the append-only guard), its files and their day sums."""
    from django.db import connection

    newest = ReadingBatch.objects.order_by("-seq").first()
    assert newest is not None
    paths = list(BatchFile.objects.filter(batch=newest).values_list("path", flat=True))
    with connection.cursor() as cursor:
        run_table, file_table = IngestRun._meta.db_table, BatchFile._meta.db_table
        cursor.execute(f"UPDATE {run_table} SET batch_id = NULL WHERE batch_id = %s", [newest.pk])
        cursor.execute(f"DELETE FROM {file_table} WHERE batch_id = %s", [newest.pk])
        cursor.execute(f"DELETE FROM {ReadingBatch._meta.db_table} WHERE id = %s", [newest.pk])
    for rel in paths:
        (lake / rel).unlink()
        (lake / "_sums" / rel).unlink()
    return newest


def test_removing_the_newest_batch_is_found_through_the_anchor(
    plant: Organization, lake: Path, tmp_path: Path
) -> None:
    """Issue 9: without an anchor outside the database, a ledger missing its newest batch verified."""
    first = services.ingest(
        plant, source="upload", path=write(tmp_path, "a.csv", HEADER + "P1,2024-01-01,1,t\n")
    )
    second = services.ingest(
        plant, source="upload", path=write(tmp_path, "b.csv", HEADER + "P1,2024-01-02,2,t\n")
    )
    assert second.report["ledger"] == {"batches": 2, "seq": 2, "head": second.batch.chain_hash}
    assert first.report["ledger"]["head"] == first.batch.chain_hash
    lines = (lake / "_anchors.jsonl").read_text(encoding="ascii").splitlines()
    assert [line.count('"seq":') for line in lines] == [1, 1] and second.batch.chain_hash in lines[1]
    assert services.verify_ledger().ok
    assert services.verify_ledger(expect_head=first.batch.chain_hash).ok  # an older head is still reached
    removed = remove_newest_batch(lake)
    result = services.verify_ledger()
    assert not result.ok
    (problem,) = result.problems
    assert (problem.seq, problem.kind, problem.path.split(" ")[0]) == (
        2,
        "anchor_unreached",
        "_anchors.jsonl",
    )
    assert "batch #2 is missing" in problem.detail and removed.chain_hash in problem.detail
    by_hand = services.verify_ledger(expect_head=removed.chain_hash)
    assert {p.kind for p in by_hand.problems} == {"anchor_unreached", "head_unreached"}
    (lake / "_anchors.jsonl").unlink()  # and the anchors with it: their absence is named too
    assert [p.kind for p in services.verify_ledger().problems] == ["anchor_missing"]
    assert [p.kind for p in services.verify_ledger(expect_head=removed.chain_hash).problems] == [
        "head_unreached"
    ]


def test_anchors_are_appended_never_rewritten(plant: Organization, lake: Path, tmp_path: Path) -> None:
    services.ingest(plant, source="upload", path=write(tmp_path, "a.csv", HEADER + "P1,2024-01-01,1,t\n"))
    before = (lake / "_anchors.jsonl").read_bytes()
    repeat = services.ingest(
        plant, source="upload", path=write(tmp_path, "a2.csv", HEADER + "P1,2024-01-01,1,t\n")
    )
    assert repeat.batch is None and repeat.report["ledger"]["batches"] == 1  # shown, nothing new anchored
    assert (lake / "_anchors.jsonl").read_bytes() == before
    services.ingest(plant, source="upload", path=write(tmp_path, "b.csv", HEADER + "P1,2024-01-02,2,t\n"))
    after = (lake / "_anchors.jsonl").read_bytes()
    assert after.startswith(before) and after.count(b"\n") == 2


def test_a_deletion_record_needs_old_data_and_a_verifying_archive(
    plant: Organization, clerk: Any, lake: Path, tmp_path: Path
) -> None:
    """Issue 9: a forged deletion record (two-month-old data, an archive that does not exist) let the ledger
    check accept the missing files. A deletion counts only for data older than the retention period whose
    archive is present and verifies."""
    from django.utils import timezone

    month = (timezone.localdate().replace(day=1) - timedelta(days=40)).replace(day=15)
    text = HEADER + f"P1,{month.isoformat()} 08:00,1,t\nP1,2015-03-01,2,t\n"
    run = services.ingest(plant, source="upload", path=write(tmp_path, "a.csv", text))
    files = {f.path: f for f in BatchFile.objects.filter(batch=run.batch)}
    young = next(p for p in files if f"/y={month.year:04d}/m={month.month:02d}/" in p)
    forged = ArchivedPartition(
        organization=plant,
        year=month.year,
        month=month.month,
        archive_dir=str(tmp_path / "no-such-archive"),
        manifest_sha256="0" * 64,
        files=[{"path": young, "sha256": files[young].sha256, "rows": 1, "batch": run.batch.seq}],
        deleted_at=timezone.now(),
        reason="forged",
    )
    forged._change_reason = "forged"
    forged.save()
    (lake / young).unlink()
    (lake / "_sums" / young).unlink()
    result = services.verify_ledger()
    kinds = {p.kind: p for p in result.problems}
    assert set(kinds) == {"deletion_refused", "file_missing"}
    refused = kinds["deletion_refused"]
    assert refused.path == f"{CREDIT} {month.year:04d}-{month.month:02d}" and refused.seq == run.batch.seq
    assert "younger than the 5-year retention period" in refused.detail
    assert "no-such-archive" in refused.detail
    assert kinds["file_missing"].path == young


def test_a_lawful_deletion_stops_counting_when_its_archive_goes(
    plant: Organization, clerk: Any, lake: Path, tmp_path: Path
) -> None:
    import shutil

    text = HEADER + "P1,2015-03-01,1,t\nP1,2024-03-01,3,t\n"
    services.ingest(plant, source="upload", path=write(tmp_path, "a.csv", text))
    today = date(2026, 11, 24)
    services.archive((2016, 1), tmp_path / "export", user=clerk, today=today)
    services.delete_archived((2016, 1), user=clerk, reason="retention", today=today)
    assert services.verify_ledger().ok
    manifest = tmp_path / "export" / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"retention_years": 5', b'"retention_years": 1'))
    changed = services.verify_ledger()
    assert "deletion_refused" in {p.kind for p in changed.problems}
    assert any("manifest changed" in p.detail for p in changed.problems)
    shutil.rmtree(tmp_path / "export")
    gone = services.verify_ledger()
    assert {p.kind for p in gone.problems} == {"deletion_refused", "file_missing"}


def test_recovery_lists_runs_whose_source_copy_is_gone(plant: Organization, tmp_path: Path) -> None:
    """A copy recorded by size and sha256 is checked by both; one kept before they were recorded, by its
    presence; a whole copy is left alone."""
    run = services.ingest(
        plant, source="upload", path=write(tmp_path, "a.csv", HEADER + "P1,2024-01-01,1,t\n")
    )
    assert run.report["source_file"]["size"] == len(HEADER + "P1,2024-01-01,1,t\n")
    assert services.recover_sources().problems == []
    old = services.ingest(
        plant, source="upload", path=write(tmp_path, "b.csv", HEADER + "P1,2024-01-02,1,t\n")
    )
    IngestRun.objects.filter(pk=old.pk).update(report={}, upload="readings/2024/01/lost.csv")
    Path(run.upload.path).unlink()
    found = {(p.run, p.kind) for p in services.recover_sources().problems}
    assert found == {(run.pk, "missing"), (old.pk, "missing")}
