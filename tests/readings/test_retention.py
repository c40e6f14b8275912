"""Retention on real files: the five-year boundary, archives that verify on their own (and stop verifying
when touched), and deletion that refuses anything young, unarchived or changed since archiving."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from carbonmeter.readings import lake as lake_mod
from carbonmeter.readings import retention, sums
from carbonmeter.readings.ledger import BatchRecord, verify

from .test_lake import ORG, add_batch, rows

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("y", "m", "old"),
    [(2021, 10, True), (2021, 11, False), (2020, 12, True), (2026, 1, False)],
)
def test_a_month_is_old_enough_once_it_ended_five_years_ago(y: int, m: int, old: bool) -> None:
    assert retention.old_enough(y, m, today=TODAY, years=5) is old


def test_leap_day_cutoff() -> None:
    assert retention.cutoff(date(2028, 2, 29), 5) == date(2023, 2, 28)
    assert retention.old_enough(2023, 1, today=date(2028, 2, 29), years=5)


def test_before_may_not_reach_into_the_retention_period() -> None:
    retention.check_before((2021, 11), today=TODAY, years=5)
    with pytest.raises(retention.RetentionError, match="younger than 5 years"):
        retention.check_before((2021, 12), today=TODAY, years=5)


def lake_with_history(root: Path) -> list[BatchRecord]:
    first = add_batch(root, rows("P1", "2015-03-31 23:30", [1, 2, 3, 4]), seq=1)  # March and April 2015
    second = add_batch(root, rows("P1", "2024-05-01 00:00", [5]), seq=2, prev=first.chain_hash)
    return [first, second]


def test_an_archive_verifies_on_its_own(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    batches = lake_with_history(lake)
    manifest = retention.archive(lake, tmp_path / "export", batches, before=(2016, 1), today=TODAY, years=5)
    assert [(p.org, p.y, p.m) for p in manifest.partitions] == [(ORG, 2015, 3), (ORG, 2015, 4)]
    assert manifest.batches == [1]
    result = retention.verify_archive(tmp_path / "export")
    assert result.ok and (result.batches, result.files) == (1, 2)
    document = json.loads((tmp_path / "export" / retention.MANIFEST).read_text(encoding="utf-8"))
    assert [c[0] for c in document["chain"]] == [1, 2] and document["before"] == "2016-01"


def test_a_touched_archive_no_longer_verifies(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    batches = lake_with_history(lake)
    export = tmp_path / "export"
    retention.archive(lake, export, batches, before=(2016, 1), today=TODAY, years=5)
    (export / batches[0].files[0].path).write_bytes(b"changed")
    shutil.copyfile(export / batches[0].files[1].path, export / f"org={ORG}/y=2015/m=04/b00000001-7.parquet")
    problems = {(p.seq, p.kind) for p in retention.verify_archive(export).problems}
    assert {(1, "file_altered"), (1, "file_unnamed")} <= problems
    (export / retention.MANIFEST).write_text("{}", encoding="utf-8")
    assert {p.kind for p in retention.verify_archive(export).problems} >= {"manifest"}


def test_archiving_refuses_young_months_and_unknown_files(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    batches = lake_with_history(lake)
    with pytest.raises(retention.RetentionError, match="younger"):
        retention.archive(lake, tmp_path / "a", batches, before=(2025, 1), today=TODAY, years=5)
    with pytest.raises(retention.RetentionError, match="named by no batch"):
        retention.archive(lake, tmp_path / "b", batches[1:], before=(2016, 1), today=TODAY, years=5)
    with pytest.raises(retention.RetentionError, match="nothing before"):
        retention.archive(lake, tmp_path / "c", batches, before=(2010, 1), today=TODAY, years=5)


def test_deletion_needs_age_and_an_intact_archive(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    batches = lake_with_history(lake)
    export = tmp_path / "export"
    manifest = retention.archive(lake, export, batches, before=(2016, 1), today=TODAY, years=5)

    class Record:
        archive_dir = str(export)
        manifest_sha256 = manifest.sha256

    parts = {(p.y, p.m): p for p in retention.partitions(lake)}
    young = parts[(2024, 5)]
    with pytest.raises(retention.RetentionError, match="cannot be deleted"):
        retention.delete_partition(lake, young, today=TODAY, years=5, archived={})
    with pytest.raises(retention.RetentionError, match="no usable archive"):
        retention.usable_archive(young, [Record()])
    old = parts[(2015, 3)]
    _, archived = retention.usable_archive(old, [Record()])
    with pytest.raises(retention.RetentionError, match="younger than 5 years"):  # in 2020 it was young
        retention.delete_partition(lake, old, today=date(2020, 1, 1), years=5, archived=archived)
    deleted = retention.delete_partition(lake, old, today=TODAY, years=5, archived=archived)
    assert deleted == list(old.paths) and not (lake / old.paths[0]).exists()
    assert not (lake / sums.sums_path(old.paths[0])).exists()  # its day sums go with it
    assert (lake / sums.sums_path(young.paths[0])).exists()
    assert verify(lake, batches, deleted=set(deleted)).ok
    assert not verify(lake, batches).ok  # without the record of the deletion, a missing file is a problem


def test_deletion_refuses_a_file_changed_since_archiving(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    batches = lake_with_history(lake)
    export = tmp_path / "export"
    retention.archive(lake, export, batches, before=(2016, 1), today=TODAY, years=5)
    part = next(p for p in retention.partitions(lake) if (p.y, p.m) == (2015, 4))
    (lake / part.paths[0]).write_bytes(b"rewritten after the archive")
    archived = {f.path: f.sha256 for b in batches for f in b.files}
    with pytest.raises(retention.RetentionError, match="not the file that was archived"):
        retention.delete_partition(lake, part, today=TODAY, years=5, archived=archived)
    assert (lake / part.paths[0]).exists() and lake_mod.data_files(lake)
