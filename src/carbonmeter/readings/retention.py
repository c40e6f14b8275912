"""Retention: nothing younger than the retention period leaves the lake; older months can be archived to a
verifiable export and only then deleted (6.4.6; the years are the rule pack's ``data_retention_years``).

An archive is a directory: the partitions' Parquet files under their lake paths, ``manifest.json`` (the
partitions and their files with sha256 and rows, the full records of the batches those files belong to,
and the whole chain as ``[seq, prev_chain_hash, chain_hash]``) and ``manifest.sha256``.
:func:`verify_archive` checks it on its own, without the database: file hashes, each batch's link hash,
the chain's continuity, and the content hash of every batch whose files are all in the archive.

A month is old enough when it *ended* at least ``years`` before today: with five years on 2026-11-24, the
months up to 2021-10 are, 2021-11 is not.

A recorded deletion is what lets ``ledger verify`` accept a missing file, so a row in the database must not be
enough: :func:`deletion_problems` accepts a deletion only for a month that was older than the retention
period when it was deleted, whose archive is still there, unchanged (manifest hash) and verifying, and
holds every deleted file with the hash the ledger records.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from carbonmeter.readings import lake as lake_mod
from carbonmeter.readings import sums
from carbonmeter.readings.ledger import (
    BatchRecord,
    FileRecord,
    Problem,
    VerifyResult,
    chain_hash,
    content_problems,
    file_problem,
    file_sha256,
    format_ts,
    metadata_problems,
)

MANIFEST = "manifest.json"
MANIFEST_SHA = "manifest.sha256"
FORMAT = "carbonmeter.lake-archive/1"


class RetentionError(Exception):
    """An archive or deletion the retention rules refuse, with the reason."""


def cutoff(today: date, years: int) -> date:
    """``years`` before ``today`` (29 February becomes 28 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def _month_end(y: int, m: int) -> date:
    """The first day after the month."""
    return date(y + (m == 12), m % 12 + 1, 1)


def old_enough(y: int, m: int, *, today: date, years: int) -> bool:
    """Whether the month ended at least ``years`` before ``today``."""
    return _month_end(y, m) <= cutoff(today, years)


def check_before(before: tuple[int, int], *, today: date, years: int) -> None:
    """Refuse a ``before`` month that would take in anything younger than the retention period."""
    y, m = before
    if not 1 <= m <= 12:
        raise RetentionError(f"{y:04d}-{m:02d} is no month")
    if date(y, m, 1) > cutoff(today, years):
        raise RetentionError(
            f"data before {y:04d}-{m:02d} include months younger than {years} years "
            f"(on {today.isoformat()} only months ending by {cutoff(today, years).isoformat()} "
            "may leave the lake)"
        )


@dataclass(frozen=True)
class Partition:
    """A month of one organization in the lake."""

    org: str
    y: int
    m: int
    paths: tuple[str, ...]


def partitions(lake: Path) -> list[Partition]:
    """The lake's partitions that hold data files, in order."""
    grouped: dict[tuple[str, int, int], list[str]] = {}
    for rel in lake_mod.data_files(lake):
        org_part, y_part, m_part, _name = rel.split("/")
        key = (org_part.removeprefix("org="), int(y_part.removeprefix("y=")), int(m_part.removeprefix("m=")))
        grouped.setdefault(key, []).append(rel)
    return [Partition(o, y, m, tuple(sorted(p))) for (o, y, m), p in sorted(grouped.items())]


@dataclass(frozen=True)
class ArchivedFile:
    path: str
    sha256: str
    rows: int
    batch: int

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "rows": self.rows, "batch": self.batch}


@dataclass(frozen=True)
class ArchivedPart:
    org: str
    y: int
    m: int
    files: tuple[ArchivedFile, ...]


@dataclass
class Manifest:
    """What an archive holds; ``sha256`` is that of ``manifest.json``."""

    root: Path
    sha256: str
    partitions: list[ArchivedPart] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)

    def orgs(self) -> set[str]:
        return {p.org for p in self.partitions}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def archive(
    lake: Path,
    to: Path,
    batches: Sequence[BatchRecord],
    *,
    before: tuple[int, int],
    today: date,
    years: int,
    deleted: Collection[str] = (),
) -> Manifest:
    """Copy every partition older than ``before`` to ``to`` (a new or empty directory) with a manifest.

    Refused for a ``before`` within the retention period, when there is nothing to archive, and for a file
    that no batch names or whose bytes differ from the recorded hash (run ``carbonmeter ledger verify``)."""
    check_before(before, today=today, years=years)
    parts = [p for p in partitions(lake) if (p.y, p.m) < before]
    if not parts:
        raise RetentionError(f"the lake holds nothing before {before[0]:04d}-{before[1]:02d}")
    if to.exists() and any(to.iterdir()):
        raise RetentionError(f"{to} is not empty: archive into a new directory")
    by_path = {f.path: (b, f) for b in batches for f in b.files}
    archived: list[ArchivedPart] = []
    for part in parts:
        files = []
        for rel in part.paths:
            if rel not in by_path:
                raise RetentionError(f"{rel} is named by no batch: run carbonmeter ledger verify")
            batch, record = by_path[rel]
            target = to / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(lake / rel, target)
            _fsync(target)
            if file_sha256(target) != record.sha256:
                raise RetentionError(f"{rel} differs from its recorded hash: run carbonmeter ledger verify")
            files.append(ArchivedFile(rel, record.sha256, record.rows, batch.seq))
        archived.append(ArchivedPart(part.org, part.y, part.m, tuple(files)))
    seqs = sorted({f.batch for p in archived for f in p.files})
    wanted = set(seqs)
    document = {
        "format": FORMAT,
        "created_at": format_ts(datetime.now(UTC)),
        "before": f"{before[0]:04d}-{before[1]:02d}",
        "retention_years": years,
        "partitions": [
            {"org": p.org, "y": p.y, "m": p.m, "files": [f.as_json() for f in p.files]} for p in archived
        ],
        "batches": [b.as_json() for b in batches if b.seq in wanted],
        "chain": [[b.seq, b.prev_chain_hash, b.chain_hash] for b in sorted(batches, key=lambda b: b.seq)],
        "deleted_before": sorted(deleted),
    }
    data = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8") + b"\n"
    (to / MANIFEST).write_bytes(data)
    sha = _sha(data)
    (to / MANIFEST_SHA).write_text(f"{sha}  {MANIFEST}\n", encoding="ascii")
    for p in (to / MANIFEST, to / MANIFEST_SHA):
        _fsync(p)
    for d in sorted({(to / f.path).parent for p in archived for f in p.files} | {to}):
        _fsync(d)
    return Manifest(to, sha, archived, seqs)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(root: Path) -> tuple[dict[str, Any], str]:
    data = (root / MANIFEST).read_bytes()
    document: dict[str, Any] = json.loads(data)
    return document, _sha(data)


def verify_archive(root: Path) -> VerifyResult:
    """Check an archive on its own (``carbonmeter ledger verify --archive DIR``)."""
    result = VerifyResult()
    try:
        document, sha = read_manifest(root)
    except (OSError, ValueError) as exc:
        result.problems.append(Problem(None, "manifest", MANIFEST, f"cannot read the manifest: {exc}"))
        return result
    recorded = (
        (root / MANIFEST_SHA).read_text(encoding="ascii").split()[0]
        if (root / MANIFEST_SHA).is_file()
        else ""
    )
    if recorded != sha:
        result.problems.append(
            Problem(None, "manifest", MANIFEST, "manifest.json differs from manifest.sha256")
        )
    batches = [BatchRecord.from_json(b) for b in document.get("batches", [])]
    result.batches = len(batches)
    result.problems.extend(_chain_problems(document.get("chain", []), batches))
    for b in batches:
        result.problems.extend(metadata_problems(b))
        if chain_hash(b.prev_chain_hash, b.content_hash, b.metadata) != b.chain_hash:
            result.problems.append(
                Problem(b.seq, "chain_hash", "", "chain hash does not match content and metadata")
            )
    listed: dict[str, ArchivedFile] = {}
    for p in document.get("partitions", []):
        for f in p["files"]:
            listed[f["path"]] = ArchivedFile(f["path"], f["sha256"], int(f["rows"]), int(f["batch"]))
    by_seq = {b.seq: b for b in batches}
    for f in listed.values():
        result.files += 1
        owner = by_seq.get(f.batch)
        record = next((r for r in owner.files if r.path == f.path), None) if owner else None
        if record is None or record.sha256 != f.sha256:
            result.problems.append(Problem(f.batch, "manifest", f.path, "not listed so by its batch"))
        problem = file_problem(root, f.batch, FileRecord(f.path, f.sha256, f.rows))
        if problem is not None:
            result.problems.append(problem)
    con = lake_mod.connect()
    try:
        for b in batches:
            if b.files and all(f.path in listed for f in b.files):
                result.problems.extend(content_problems(con, root, b))
    finally:
        con.close()
    for path in sorted(root.rglob("*.parquet")):
        rel = path.relative_to(root).as_posix()
        if rel not in listed:
            result.problems.append(
                Problem(lake_mod.batch_of(rel), "file_unnamed", rel, "not in the manifest")
            )
    return result


def _chain_problems(chain: Iterable[Sequence[Any]], batches: Sequence[BatchRecord]) -> list[Problem]:
    """The chain's continuity as the manifest copied it, and the archived batches' place in it."""
    out: list[Problem] = []
    prev_hash, prev_seq = None, None
    links: dict[int, tuple[str, str]] = {}
    for seq, prev, chained in chain:
        seq = int(seq)
        if prev_seq is not None and seq != prev_seq + 1:
            out.append(Problem(seq, "batch_missing", "", f"batch #{prev_seq + 1} missing from the chain"))
        if prev_hash is not None and prev != prev_hash:
            out.append(
                Problem(seq, "chain_link", "", "prev_chain_hash is not the chain hash of the batch before")
            )
        links[seq] = (str(prev), str(chained))
        prev_hash, prev_seq = chained, seq
    for b in batches:
        if links.get(b.seq) != (b.prev_chain_hash, b.chain_hash):
            out.append(Problem(b.seq, "chain_link", "", "the batch is not in the chain as recorded"))
    return out


class ArchiveRecord(Protocol):
    """A recorded archive of a partition (``ArchivedPartition`` in the database)."""

    archive_dir: str
    manifest_sha256: str


def usable_archive(part: Partition, records: Sequence[ArchiveRecord]) -> tuple[ArchiveRecord, dict[str, str]]:
    """The first recorded archive of ``part`` that still verifies and lists all its current files, with
    the archived files' hashes (path → sha256)."""
    reasons = []
    for record in records:
        root = Path(record.archive_dir)
        try:
            document, sha = read_manifest(root)
        except (OSError, ValueError) as exc:
            reasons.append(f"{root}: {exc}")
            continue
        if sha != record.manifest_sha256:
            reasons.append(f"{root}: the manifest changed since it was archived")
            continue
        check = verify_archive(root)
        if not check.ok:
            reasons.append(f"{root}: {check.problems[0]}")
            continue
        listed = {f["path"]: f["sha256"] for p in document["partitions"] for f in p["files"]}
        if set(part.paths) - set(listed):
            reasons.append(f"{root}: files added to the month since it was archived")
            continue
        return record, listed
    why = "; ".join(reasons) or "no archive recorded"
    raise RetentionError(f"{part.org} {part.y:04d}-{part.m:02d} has no usable archive ({why})")


def delete_partition(
    lake: Path, part: Partition, *, today: date, years: int, archived: dict[str, str]
) -> list[str]:
    """Delete an archived partition's files from the lake; refused for a month younger than the retention
    period, and for a file whose bytes are not those archived (``archived``: path → sha256)."""
    if not old_enough(part.y, part.m, today=today, years=years):
        raise RetentionError(
            f"{part.org} {part.y:04d}-{part.m:02d} is younger than {years} years: it cannot be deleted"
        )
    for rel in part.paths:
        if archived.get(rel) != file_sha256(lake / rel):
            raise RetentionError(f"{rel} is not the file that was archived")
    for rel in part.paths:
        # the day sums first, so that a crash in between leaves a data file recovery re-summarizes
        (lake / sums.sums_path(rel)).unlink(missing_ok=True)
        (lake / rel).unlink()
    for root in (lake, lake / sums.SUMS):
        folder = root / lake_mod.partition_dir(part.org, part.y, part.m)
        for d in (folder, folder.parent, folder.parent.parent):
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
    if lake.is_dir():
        _fsync(lake)
    return list(part.paths)


@dataclass(frozen=True)
class Deletion:
    """A recorded deletion of an archived partition (``ArchivedPartition`` with ``deleted_at``)."""

    org: str
    y: int
    m: int
    archive_dir: str
    manifest_sha256: str
    paths: tuple[str, ...]
    deleted_at: datetime


def deletion_problems(
    deletions: Sequence[Deletion], batches: Sequence[BatchRecord], *, years: int
) -> tuple[set[str], list[Problem]]:
    """The paths whose deletion is lawful, and a problem per deletion that is not (its files then count
    as missing): deleted within the retention period, archive missing or changed or not verifying, or a
    file the archive does not hold as the ledger records it."""
    recorded = {f.path: f.sha256 for b in batches for f in b.files}
    checked: dict[tuple[str, str], tuple[dict[str, str] | None, str]] = {}
    accepted: set[str] = set()
    problems: list[Problem] = []
    for d in deletions:
        where = f"{d.org} {d.y:04d}-{d.m:02d}"
        local = d.deleted_at.astimezone(ZoneInfo(lake_mod.TIME_ZONE)).date()
        reasons: list[str] = []
        if not old_enough(d.y, d.m, today=local, years=years):
            reasons.append(f"deleted on {local.isoformat()}, younger than the {years}-year retention period")
        key = (d.archive_dir, d.manifest_sha256)
        if key not in checked:
            checked[key] = _archive_listing(Path(d.archive_dir), d.manifest_sha256)
        listed, why = checked[key]
        if listed is None:
            reasons.append(why)
        else:
            lacking = [p for p in d.paths if listed.get(p) is None or listed.get(p) != recorded.get(p)]
            if lacking:
                reasons.append(f"the archive does not hold {', '.join(sorted(lacking))} as recorded")
        if reasons:
            seq = min((lake_mod.batch_of(p) or 0 for p in d.paths), default=None) or None
            problems.append(Problem(seq, "deletion_refused", where, "; ".join(reasons)))
        else:
            accepted.update(d.paths)
    return accepted, problems


def _archive_listing(root: Path, manifest_sha256: str) -> tuple[dict[str, str] | None, str]:
    """path → sha256 of an archive that is present, unchanged since recorded and verifying; else None and
    why."""
    try:
        document, sha = read_manifest(root)
    except (OSError, ValueError) as exc:
        return None, f"archive {root} unreadable or missing ({exc.__class__.__name__})"
    if sha != manifest_sha256:
        return None, f"archive {root}: the manifest changed since it was recorded"
    check = verify_archive(root)
    if not check.ok:
        return None, f"archive {root} does not verify: {check.problems[0]}"
    return {f["path"]: f["sha256"] for p in document.get("partitions", []) for f in p["files"]}, ""
