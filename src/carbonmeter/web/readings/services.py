"""Readings services: the one way data enter the lake and the chain (docs/specs/readings.md).

Every face (upload page, REST batch API, MQTT subscriber, ``carbonmeter ingest``) calls :func:`ingest`;
nothing else writes to the lake or to ``ReadingBatch``.

One ingest, under the lake's writer lock (one writer per lake; the lock dies with its process):

1. :func:`recover` any publication a crash interrupted, so the stored rows looked up next are complete;
2. validate every row (``carbonmeter.readings.ingest``) against the plan and the stored rows;
3. stage the accepted rows as Parquet files under ``_staging/`` with the next sequence number, fsynced;
4. in one durable transaction (the outermost: a caller's transaction could still roll it back after the
   files were published) insert the batch with its final file paths and chain hash, the run and its
   quarantined rows — the chain head is locked (``select_for_update`` on PostgreSQL; SQLite has a single
   writer), and a unique ``seq`` refuses any fork;
5. move the files into place.

A crash before 4 leaves a staging folder that recovery deletes; after 4, files that recovery moves. Readers
never see a partial batch. The same content twice is stored once: the run names the batch that holds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation

from carbonmeter.readings import lake, retention
from carbonmeter.readings.ingest import (
    Correction,
    Outcome,
    Plan,
    PointPlan,
    RejectedRow,
    from_rows,
    json_safe,
    read_source,
    validate,
)
from carbonmeter.readings.ledger import (
    ANCHORS,
    ZERO_HASH,
    Anchor,
    BatchRecord,
    FileRecord,
    VerifyResult,
    append_anchor,
    batch_metadata,
    chain_hash,
    create_anchor_file,
    file_sha256,
    format_ts,
    fsync_dir,
    read_anchors,
    verify,
)
from carbonmeter.readings.model import Quarantine
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.readings.models import (
    BATCH_SOURCES,
    ArchivedPartition,
    BatchFile,
    IngestRun,
    PointProfile,
    QuarantinedRow,
    ReadingBatch,
)
from carbonmeter.web.registry.models import MeasuringPoint, Organization

#: Test hook for the crash tests (tests/web/readings/test_fault.py): ``staged``, ``committed``,
#: ``moving``, ``keeping`` (before the source copy) or ``copied`` (its part file written) makes an ingest
#: write the stage's name to ``CARBONMETER_INGEST_PAUSE_MARKER`` and sleep there, to be killed. Unset in
#: production.
PAUSE_ENV = "CARBONMETER_INGEST_PAUSE"
PAUSE_MARKER_ENV = "CARBONMETER_INGEST_PAUSE_MARKER"
_ATTEMPTS = 5
_SOURCES = {key for key, _label in BATCH_SOURCES}


def _source_name(source: str) -> str:
    """A source's Chinese name (its label's msgid), for the history, which is kept in one language."""
    with translation.override(None):
        return str(dict(BATCH_SOURCES).get(source, source))


def _pause(stage: str) -> None:
    if os.environ.get(PAUSE_ENV) != stage:
        return
    marker = os.environ.get(PAUSE_MARKER_ENV)
    if marker:
        Path(marker).write_text(stage, encoding="utf-8")
    time.sleep(3600)


def _user(user: AbstractBaseUser | None) -> Any:
    """The user for a foreign key to ``AUTH_USER_MODEL`` (typed as the concrete model)."""
    return user


def lake_dir() -> Path:
    return Path(settings.CARBONMETER_LAKE)


def plan_for(organization: Organization) -> Plan:
    """The organization's points and their data profiles (archived points are known, and refused)."""
    profiles = {p.point_id: p for p in PointProfile.objects.filter(organization=organization, archived=False)}
    points: dict[str, PointPlan] = {}
    for pk, code, archived in MeasuringPoint.objects.filter(organization=organization).values_list(
        "pk", "code", "archived"
    ):
        profile = profiles.get(pk)
        points[code] = PointPlan(
            code=code,
            quantity=profile.quantity if profile else None,
            min_value=profile.min_value if profile else None,
            max_value=profile.max_value if profile else None,
            archived=archived,
        )
    return Plan(lake.check_org(organization.credit_code), points)


def _committed_paths(paths: Sequence[str]) -> set[str]:
    return set(BatchFile.objects.filter(path__in=list(paths)).values_list("path", flat=True))


def recover() -> lake.Recovered:
    """Finish or undo publications interrupted by a crash (run at the start of ingest processes), and
    anchor a head a crash left unanchored (:func:`catch_up_anchor`)."""
    with lake.writer_lock(lake_dir()):
        done = lake.recover(lake_dir(), _committed_paths)
        catch_up_anchor()
        return done


def _family(batch: ReadingBatch) -> frozenset[int]:
    """The corrected batch's family: its root (what it ultimately corrects) and every correction of it."""
    root = batch
    while root.corrects_id is not None:
        root = ReadingBatch.objects.get(pk=root.corrects_id)
    seqs = {root.seq}
    frontier = [root.pk]
    while frontier:
        children = list(ReadingBatch.objects.filter(corrects_id__in=frontier).values_list("pk", "seq"))
        frontier = [pk for pk, _seq in children]
        seqs.update(seq for _pk, seq in children)
    return frozenset(seqs)


def _check_arguments(
    organization: Organization,
    *,
    source: str,
    path: Path | None,
    rows: Iterable[Mapping[str, Any] | RejectedRow] | None,
    user: AbstractBaseUser | None,
    corrects: ReadingBatch | None,
    reason: str,
    resolves: Sequence[QuarantinedRow],
) -> None:
    if (path is None) == (rows is None):
        raise ValueError("give either path or rows")
    if source not in _SOURCES:
        raise ValueError(f"unknown source {source!r}; one of {sorted(_SOURCES)}")
    if corrects is not None:
        if corrects.organization_id != organization.pk:
            raise ValueError(f"batch #{corrects.seq} belongs to another organization")
        if not reason.strip():
            raise ValueError("a correction needs a reason")
        if user is None:
            raise ValueError("a correction needs the user who makes it")
    for q in resolves:
        if q.organization_id != organization.pk:
            raise ValueError(f"quarantined row {q.pk} belongs to another organization")
        if q.state != "open":
            raise ValueError(f"quarantined row {q.pk} is {q.state}, not open")


class _ChainMoved(Exception):
    """Another writer took the sequence number the files were staged for: stage again."""


def ingest(
    organization: Organization,
    *,
    source: str,
    path: Path | None = None,
    rows: Iterable[Mapping[str, Any] | RejectedRow] | None = None,
    filename: str = "",
    user: AbstractBaseUser | None = None,
    corrects: ReadingBatch | None = None,
    reason: str = "",
    resolves: Sequence[QuarantinedRow] = (),
    now: datetime | None = None,
) -> IngestRun:
    """Validate ``path`` (CSV / XLSX / Parquet / JSON) or ``rows`` (dicts with the input columns),
    quarantine what fails, store the rest as one batch (crash-safe, idempotent by content hash) and return
    the run with its report. ``corrects``/``reason``/``user`` make a correction batch, whose values
    supersede those of the corrected batch's family; ``resolves`` marks quarantined rows this submission
    fixes. ``now``: the moment of ingest (rows after it are refused), default the clock.

    Raises :class:`carbonmeter.readings.ingest.IngestError` when the source cannot be read at all (then
    nothing is recorded) and ``ValueError`` for arguments that contradict each other.
    """
    _check_arguments(
        organization,
        source=source,
        path=path,
        rows=rows,
        user=user,
        corrects=corrects,
        reason=reason,
        resolves=resolves,
    )
    if path is not None:
        src = read_source(Path(path), filename=filename, max_rows=settings.CARBONMETER_INGEST_MAX_ROWS)
    else:
        assert rows is not None
        src = from_rows(rows, filename=filename)
    plan = plan_for(organization)
    root = lake_dir()
    kept = _source_record(Path(path), filename) if path is not None else None
    correction = Correction(corrects.seq, _family(corrects)) if corrects is not None else None

    def held_by(content_hash: str) -> int | None:
        return (
            ReadingBatch.objects.filter(organization=organization, content_hash=content_hash)
            .values_list("seq", flat=True)
            .first()
        )

    with lake.writer_lock(root):
        lake.recover(root, _committed_paths)
        catch_up_anchor()
        outcome = validate(src, plan, lake=root, now=now, correction=correction, held_by=held_by)
        if outcome.accepted.num_rows:
            create_anchor_file(root)
        for _attempt in range(_ATTEMPTS):
            head = ReadingBatch.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
            staged = (
                lake.stage(root, plan.org, head + 1, outcome.accepted) if outcome.accepted.num_rows else None
            )
            try:
                _pause("staged")
                run = _commit(
                    organization, outcome, staged, source, user, corrects, reason, resolves, kept=kept
                )
            except (_ChainMoved, IntegrityError):
                if staged is not None:
                    lake.discard(staged)
                continue
            except BaseException:
                if staged is not None:
                    lake.discard(staged)
                raise
            _pause("committed")
            if staged is not None:
                lake.publish(staged, after_each=lambda i: _pause("moving") if i == 0 else None)
                _write_anchor(run)
            if run.report.get("source_file"):
                _pause("keeping")
                _keep_source(run, Path(path or ""))
            if kept is not None:
                _reattach(kept, Path(path or ""), run.pk)
            return run
    raise RuntimeError(f"the batch chain kept moving under {_ATTEMPTS} attempts to append to it")


def _source_record(path: Path, filename: str) -> dict[str, Any]:
    """What the run's copy of its source must be (name, size, sha256), committed with the run so that
    recovery can tell a copy a crash cut short from a whole one."""
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"name": Path(filename or path.name).name, "size": path.stat().st_size, "sha256": digest}


def source_name(run: IngestRun, record: Mapping[str, Any]) -> str:
    """The storage name of a run's source copy: one folder per run, so recovery knows where to look."""
    return f"readings/runs/{run.pk}/{run.upload.storage.get_valid_name(str(record['name'])) or 'source'}"


def _part_path(final: Path) -> Path:
    return final.with_name(f".{final.name}.part")


def _keep_source(run: IngestRun, path: Path) -> None:
    """Keep the file as received beside its run: the evidence a verifier asks for, and what a fixed
    quarantined row is compared with. A run that only repeated stored content keeps nothing new.

    Written as ``.<name>.part``, fsynced, then renamed into place: a crash leaves either the whole copy or
    a part file that :func:`recover_sources` finishes or reports, never a short file under the real name."""
    record = run.report["source_file"]
    name = source_name(run, record)
    final = Path(run.upload.storage.path(name))
    final.parent.mkdir(parents=True, exist_ok=True)
    part = _part_path(final)
    with path.open("rb") as src, part.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.flush()
        os.fsync(dst.fileno())
    _pause("copied")
    os.replace(part, final)
    fsync_dir(final.parent)
    run.upload.name = name
    run._change_reason = "原始文件存档"
    run.save(update_fields=["upload"])


def _reattach(kept: Mapping[str, Any], path: Path, current: int) -> None:
    """Earlier runs of the same file whose copy a crash lost get it now (the file came again)."""
    earlier = IngestRun.objects.filter(report__source_file__sha256=kept["sha256"]).exclude(pk=current)
    for run in earlier:
        record = run.report["source_file"]
        if int(record["size"]) == int(kept["size"]) and (
            run.upload.name != source_name(run, record)
            or _matches(Path(run.upload.storage.path(run.upload.name)), record) is not None
        ):
            _keep_source(run, path)


@dataclass(frozen=True)
class SourceProblem:
    """A run whose source copy is not what its report records: ``missing`` or ``truncated``/``altered``."""

    run: int
    name: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"run {self.run} {self.kind} {self.name}: {self.detail}"


@dataclass
class SourcesRecovered:
    finished: list[int] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)


def _matches(path: Path, record: Mapping[str, Any]) -> str | None:
    """None when ``path`` is the recorded copy (size and sha256); else why not."""
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if size != int(record["size"]):
        return f"{size} of {record['size']} bytes"
    if file_sha256(path) != record["sha256"]:
        return "sha256 differs from the recorded one"
    return None


def recover_sources() -> SourcesRecovered:
    """Runs whose source copy a crash cut short or never wrote: a whole ``.part`` copy (or a whole copy
    the run was not yet pointed at) is finished; a short one is removed; what cannot be finished is listed
    — missing, or truncated by size and sha256 — for a person to re-attach (``carbonmeter ledger recover``,
    ``manage.py readings_recover``)."""
    done = SourcesRecovered()
    for run in IngestRun.objects.filter(report__has_key="source_file").order_by("pk").iterator():
        record = run.report.get("source_file")
        if not record:
            continue
        name = source_name(run, record)
        final = Path(run.upload.storage.path(name))
        part = _part_path(final)
        if run.upload.name == name and _matches(final, record) is None:
            continue
        if _matches(final, record) is not None and _matches(part, record) is None:
            os.replace(part, final)
            fsync_dir(final.parent)
        why = _matches(final, record)
        if why is None:
            part.unlink(missing_ok=True)
            run.upload.name = name
            run._change_reason = "原始文件存档（恢复）"
            run.save(update_fields=["upload"])
            done.finished.append(run.pk)
            continue
        if part.exists():
            part.unlink()  # a copy cut short: nothing to finish it from
        kind = "missing" if why == "missing" else ("altered" if why.startswith("sha256") else "truncated")
        done.problems.append(SourceProblem(run.pk, str(record["name"]), kind, why))
    # runs kept before the size and hash were recorded: only whether the copy is still there
    older = IngestRun.objects.exclude(upload="").exclude(report__has_key="source_file").order_by("pk")
    for run in older.iterator():
        if not run.upload.storage.exists(run.upload.name):
            done.problems.append(SourceProblem(run.pk, run.upload.name, "missing", "missing"))
    return done


def _commit(
    organization: Organization,
    outcome: Outcome,
    staged: lake.Staged | None,
    source: str,
    user: AbstractBaseUser | None,
    corrects: ReadingBatch | None,
    reason: str,
    resolves: Sequence[QuarantinedRow],
    *,
    kept: Mapping[str, Any] | None = None,
) -> IngestRun:
    """The database half of a publication, in one durable transaction. ``kept``: the source file to keep
    beside the run (recorded only when the run stored or quarantined rows)."""
    report = outcome.report()
    if kept is not None and (staged is not None or outcome.counts["quarantined"]):
        report["source_file"] = dict(kept)
    with transaction.atomic(durable=True):
        batch = None
        if staged is not None:
            batch = _append_batch(organization, outcome, staged, source, user, corrects, reason)
            report["batch"] = batch.seq
        report["ledger"] = ledger_head()
        fresh, same = _new_quarantine(organization, outcome.quarantined)
        if same:
            report["same_quarantine"] = same
        counts = outcome.counts
        run = IngestRun(
            organization=organization,
            source=source,
            filename=outcome.source.file[:300],
            batch=batch,
            rows_total=counts["total"],
            rows_accepted=counts["accepted"],
            rows_duplicate=counts["duplicate"],
            rows_quarantined=counts["quarantined"],
            report=report,
            created_by=_user(user),
        )
        run._change_reason = f"数据导入（{_source_name(source)}）"
        run.save()
        QuarantinedRow.objects.bulk_create(
            (
                QuarantinedRow(
                    organization=organization,
                    run=run,
                    sheet=q.sheet[:100],
                    row=q.row,
                    column=q.column[:100],
                    code=q.code,
                    variant=q.variant,
                    params=_storable(json_safe(q.params)),
                    reason=_storable(q.reason("zh")),
                    raw=_storable(dict(q.raw)),
                    fingerprint=fingerprint,
                )
                for q, fingerprint in fresh
            ),
            batch_size=2000,
        )
        resolver = batch
        if resolver is None and outcome.held_by is not None:
            resolver = ReadingBatch.objects.get(seq=outcome.held_by)
        if resolver is not None:
            for q in resolves:
                q.state = "resubmitted"
                q.resolved_by = resolver
                q._change_reason = f"重新提交：导入记录 {run.pk}，批次 #{resolver.seq}"
                q.save()
    return run


def fingerprint(q: Quarantine) -> str:
    """What makes two quarantined rows the same: where in its sheet and column, why (code and variant) and
    the cells as received — not the row number (an MQTT message lands at any place in a batch) nor the
    file's name (a client names its retries as it likes)."""
    key = [q.sheet, q.column, str(q.code), q.variant, sorted((str(k), v) for k, v in q.raw.items())]
    return hashlib.sha256(json.dumps(key, ensure_ascii=False).encode("utf-8")).hexdigest()


def _new_quarantine(
    organization: Organization, quarantined: Sequence[Quarantine]
) -> tuple[list[tuple[Quarantine, str]], dict[str, int]]:
    """The quarantined rows to create, each with its fingerprint, and ``{row: id}`` of those already held.

    A client that sends the same batch again (a retry after a timeout, an MQTT redelivery) must not grow
    the open quarantine: a bad row already quarantined — open, re-submitted or dismissed — is that row, not
    a new one. Counted as a multiset: a file holding the same bad row twice holds two rows, and a second
    send of that file finds both."""
    prints = [fingerprint(q) for q in quarantined]
    held: dict[str, list[int]] = {}
    wanted = sorted(set(prints))
    for i in range(0, len(wanted), 500):
        for pk, fp in (
            QuarantinedRow.objects.filter(organization=organization, fingerprint__in=wanted[i : i + 500])
            .order_by("pk")
            .values_list("pk", "fingerprint")
        ):
            held.setdefault(fp, []).append(pk)
    fresh: list[tuple[Quarantine, str]] = []
    same: dict[str, int] = {}
    for q, fp in zip(quarantined, prints, strict=True):
        if held.get(fp):
            same[str(q.row)] = held[fp].pop(0)
        else:
            fresh.append((q, fp))
    return fresh, same


def run_quarantine(run: IngestRun) -> Q:
    """The quarantined rows of ``run``: its own and those it found already held (:func:`_new_quarantine`)."""
    same = (run.report or {}).get("same_quarantine") if isinstance(run.report, dict) else None
    ids = [int(pk) for pk in (same or {}).values()]
    return Q(run=run) | Q(pk__in=ids) if ids else Q(run=run)


def _storable(value: Any) -> Any:
    """Text PostgreSQL can store: a NUL character (valid in a CSV cell or an MQTT payload, refused by
    ``text`` and ``jsonb``) is written ``\\x00``."""
    if isinstance(value, str):
        return value.replace("\x00", "\\x00") if "\x00" in value else value
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


def _append_batch(
    organization: Organization,
    outcome: Outcome,
    staged: lake.Staged,
    source: str,
    user: AbstractBaseUser | None,
    corrects: ReadingBatch | None,
    reason: str,
) -> ReadingBatch:
    head_query = ReadingBatch.objects.order_by("-seq")
    if connection.features.has_select_for_update:
        head_query = head_query.select_for_update()
    head = head_query.first()
    if (head.seq if head else 0) + 1 != staged.seq:
        raise _ChainMoved
    created_at = timezone.now()
    username = user.get_username() if user is not None else None
    metadata = batch_metadata(
        seq=staged.seq,
        org=organization.credit_code,
        source=source,
        filename=outcome.source.file[:300],
        rows=staged.rows,
        files=staged.files,
        corrects=corrects.seq if corrects is not None else None,
        reason=reason,
        user=username,
        created_at=created_at,
    )
    prev = head.chain_hash if head else ZERO_HASH
    batch = ReadingBatch(
        seq=staged.seq,
        organization=organization,
        source=source,
        filename=outcome.source.file[:300],
        rows=staged.rows,
        content_hash=outcome.content_hash,
        prev_chain_hash=prev,
        chain_hash=chain_hash(prev, outcome.content_hash, metadata),
        metadata=metadata,
        corrects=corrects,
        reason=reason,
        created_by=_user(user),
        created_at=created_at,
    )
    batch.save()
    BatchFile.objects.bulk_create(
        BatchFile(batch=batch, path=f.path, sha256=f.sha256, rows=f.rows) for f in staged.files
    )
    return batch


# --- the ledger -----------------------------------------------------------------------------------------


def ledger_records(batches: Iterable[ReadingBatch] | None = None) -> list[BatchRecord]:
    """The chain as :mod:`carbonmeter.readings.ledger` verifies it."""
    rows = batches if batches is not None else ReadingBatch.objects.all()
    if batches is None:
        rows = (
            ReadingBatch.objects.select_related("organization", "corrects", "created_by")
            .prefetch_related("files")
            .order_by("seq")
        )
    return [
        BatchRecord(
            seq=b.seq,
            org=b.organization.credit_code,
            source=b.source,
            filename=b.filename,
            rows=b.rows,
            content_hash=b.content_hash,
            prev_chain_hash=b.prev_chain_hash,
            chain_hash=b.chain_hash,
            metadata=b.metadata,
            files=tuple(FileRecord(f.path, f.sha256, f.rows) for f in b.files.all()),
            corrects=b.corrects.seq if b.corrects is not None else None,
            reason=b.reason,
            user=b.created_by.get_username() if b.created_by is not None else None,
            created_at=b.created_at,
        )
        for b in rows
    ]


def ledger_head() -> dict[str, Any] | None:
    """The chain's end as every ingest report and the ledger page show it: batch count, last ``seq`` and
    chain head (None before the first batch)."""
    head = ReadingBatch.objects.order_by("-seq").values_list("seq", "chain_hash").first()
    if head is None:
        return None
    return {"batches": ReadingBatch.objects.count(), "seq": head[0], "head": head[1]}


def _write_anchor(run: IngestRun) -> None:
    """Append the head the run's report shows to the lake's anchor file (after the files are in place),
    the copy of the chain's end that the database cannot take back."""
    shown = run.report.get("ledger")
    if shown:
        anchor = Anchor(
            format_ts(timezone.now()), int(shown["batches"]), int(shown["seq"]), str(shown["head"])
        )
        append_anchor(lake_dir(), anchor)


def catch_up_anchor() -> None:
    """After a crash between a commit and its anchor: append the current head, but only to an anchor file
    that exists (every ingest creates it before its first commit) and whose last anchor the chain still
    reaches — a ledger cut short is never re-anchored here (that takes ``carbonmeter ledger anchor``)."""
    root = lake_dir()
    if not (root / ANCHORS).is_file():
        return
    shown = ledger_head()
    if shown is None:
        return
    anchors, _unreadable = read_anchors(root)
    last = anchors[-1] if anchors else None
    if last is not None:
        if last.seq >= shown["seq"]:
            return
        if not ReadingBatch.objects.filter(seq=last.seq, chain_hash=last.head).exists():
            return
    append_anchor(root, Anchor(format_ts(timezone.now()), shown["batches"], shown["seq"], shown["head"]))


def anchor_now() -> Anchor | None:
    """``carbonmeter ledger anchor``: append the current head to the anchor file (for a ledger written
    before anchors were kept, once a verification has passed)."""
    shown = ledger_head()
    if shown is None:
        return None
    with lake.writer_lock(lake_dir()):
        anchor = Anchor(format_ts(timezone.now()), shown["batches"], shown["seq"], shown["head"])
        append_anchor(lake_dir(), anchor)
    return anchor


def deletions() -> list[retention.Deletion]:
    """The recorded deletions of archived partitions, for verification."""
    return [
        retention.Deletion(
            org=r.organization.credit_code,
            y=r.year,
            m=r.month,
            archive_dir=r.archive_dir,
            manifest_sha256=r.manifest_sha256,
            paths=tuple(str(f["path"]) for f in r.files),
            deleted_at=r.deleted_at,
        )
        for r in ArchivedPartition.objects.filter(deleted_at__isnull=False).select_related("organization")
        if r.deleted_at is not None
    ]


def deleted_paths() -> set[str]:
    """Files lawfully removed from the lake after archiving."""
    out: set[str] = set()
    for files in ArchivedPartition.objects.filter(deleted_at__isnull=False).values_list("files", flat=True):
        out.update(str(f["path"]) for f in files)
    return out


def verify_ledger(expect_head: str | None = None) -> VerifyResult:
    """``carbonmeter ledger verify``: every file's hash, every batch's content hash, the chain, strays;
    that the chain still reaches every anchor of the lake's anchor file (and ``expect_head``); and that
    each recorded deletion is lawful (old enough, archive present and verifying) — only those files may
    be missing."""
    records = ledger_records()
    root = lake_dir()
    lawful, refused = retention.deletion_problems(deletions(), records, years=retention_years())
    anchors, unreadable = read_anchors(root)
    result = verify(root, records, deleted=lawful, anchors=anchors, expect_head=expect_head)
    result.problems.extend(refused + unreadable)
    return result


# --- retention ------------------------------------------------------------------------------------------


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def retention_years() -> int:
    """Years nothing in the lake may be deleted before: the longest ``data_retention_years`` of the
    default rule pack and every organization's pack (6.4.6, data with provenance), lengthened — never
    shortened — by ``settings.CARBONMETER_RETENTION_YEARS``."""
    refs = {settings.CARBONMETER_DEFAULT_PACK}
    refs.update(
        p for p in Organization.objects.exclude(pack="").values_list("pack", flat=True).distinct() if p
    )
    years = max(int(load_pack(ref).settings.data_retention_years.value or 0) for ref in sorted(refs))
    override = settings.CARBONMETER_RETENTION_YEARS
    return max(years, override) if override is not None else years


def archive(
    before: tuple[int, int], to: Path, *, user: AbstractBaseUser | None = None, today: date | None = None
) -> retention.Manifest:
    """Export every partition older than ``before`` (year, month) to ``to``: the files and a manifest of
    their batches and the chain. Refused when ``before`` is within the retention period."""
    years = retention_years()
    root = lake_dir()
    with lake.writer_lock(root):
        lake.recover(root, _committed_paths)
        manifest = retention.archive(
            root,
            to,
            ledger_records(),
            before=before,
            today=_today(today),
            years=years,
            deleted=deleted_paths(),
        )
        orgs = {o.credit_code: o for o in Organization.objects.filter(credit_code__in=manifest.orgs())}
        with transaction.atomic():
            for part in manifest.partitions:
                record = ArchivedPartition(
                    organization=orgs[part.org],
                    year=part.y,
                    month=part.m,
                    archive_dir=str(to.resolve()),
                    manifest_sha256=manifest.sha256,
                    files=[f.as_json() for f in part.files],
                    archived_by=_user(user),
                )
                record._change_reason = f"已归档至 {to}"
                record.save()
    return manifest


def delete_archived(
    before: tuple[int, int],
    *,
    user: AbstractBaseUser | None,
    reason: str,
    today: date | None = None,
) -> list[str]:
    """Delete from the lake the archived partitions older than ``before``; refused (``RetentionError``)
    for anything younger than the retention period, not archived, or whose archive no longer verifies."""
    if not reason.strip():
        raise ValueError("deleting archived data needs a reason")
    years = retention_years()
    root = lake_dir()
    deleted: list[str] = []
    with lake.writer_lock(root):
        retention.check_before(before, today=_today(today), years=years)
        candidates = [
            p for p in ArchivedPartition.objects.filter(deleted_at__isnull=True) if (p.year, p.month) < before
        ]
        present = {(p.org, p.y, p.m): p for p in retention.partitions(root)}
        by_key: dict[tuple[str, int, int], list[ArchivedPartition]] = {}
        for record in candidates:
            by_key.setdefault((record.organization.credit_code, record.year, record.month), []).append(record)
        missing = [k for k in present if (k[1], k[2]) < before and k not in by_key]
        if missing:
            shown = ", ".join(f"{o} {y:04d}-{m:02d}" for o, y, m in sorted(missing))
            raise retention.RetentionError(f"not archived, so not deleted: {shown}")
        for key, records in sorted(by_key.items()):
            part = present.get(key)
            if part is None:
                continue
            _record, archived = retention.usable_archive(part, records)
            deleted.extend(
                retention.delete_partition(root, part, today=_today(today), years=years, archived=archived)
            )
            now = timezone.now()
            for r in records:
                r.deleted_at = now
                r.deleted_by = _user(user)
                r.reason = reason
                r._change_reason = f"已从数据湖删除：{reason}"
                r.save()
    return deleted
