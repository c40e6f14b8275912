"""The data ledger: content hash of a batch, the chain hash linking batches, and verification of the lake.

Hashing is pure and comes twice, in agreement (tests hold them to it):

* :func:`canonical_line` / :func:`content_hash` in plain Python, the definition;
* :data:`LINE_SQL` + :class:`ContentHasher`, the same lines built by DuckDB for a whole column at once and
  hashed straight from Arrow buffers, so hashing ten million rows costs no Python per row.

A line is ``point, quantity, ts, value, unit, sample_id, analyzed_at, laboratory`` joined by tabs: ``ts``
and ``analyzed_at`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC), ``value`` as Python's ``repr`` of the double
(DuckDB's DOUBLE→VARCHAR is the same shortest round-trip text), a missing field as the empty string. The
content hash is the sha256 of the lines of a batch's rows in input order joined by ``\\n``.

``chain_hash = sha256(prev_chain_hash ‖ content_hash ‖ canonical JSON of the metadata)`` (hex strings
concatenated, then the JSON's UTF-8 bytes); the first batch's predecessor is 64 zeros.

:func:`verify` walks the files: it recomputes every file's sha256, every batch's content hash from its rows
and the chain, every file's day sums (``carbonmeter.readings.sums``), and lists files in the lake that no
batch names and day sums without their data file.

The database alone cannot prove that nothing was cut off its end: remove the newest batch's row, files and
sums and the remaining chain is still whole. So every ingest that leaves the ledger with a new head appends
an *anchor* — time, batch count, last ``seq`` and chain head — to ``<lake>/_anchors.jsonl``
(:func:`append_anchor`: append-only, fsynced, never rewritten; shown on the ingest report and the ledger
page, so people can also write it down). :func:`anchor_problems` checks that the chain still reaches every
anchor (and a head given by hand, ``carbonmeter ledger verify --expect-head``) and names what is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

ZERO_HASH = "0" * 64
#: The anchor file beside the lake's partitions (never read as data).
ANCHORS = "_anchors.jsonl"
HEX64 = re.compile(r"[0-9a-f]{64}")
#: File names of the lake: ``b<seq:08d>-<part>.parquet``.
FILE_NAME = re.compile(r"b(?P<seq>\d{8})-(?P<part>\d+)\.parquet")
_SEP = "\t"


def format_ts(ts: datetime | None) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC; an empty string for a missing time."""
    if ts is None:
        return ""
    if ts.tzinfo is None:
        raise ValueError("canonical timestamps are aware (UTC)")
    u = ts.astimezone(UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
        f".{u.microsecond:06d}Z"
    )


def canonical_line(
    point: str,
    quantity: str,
    ts: datetime,
    value: float,
    unit: str,
    sample_id: str | None = None,
    analyzed_at: datetime | None = None,
    laboratory: str | None = None,
) -> str:
    """One row in canonical form (the definition :data:`LINE_SQL` reproduces)."""
    return _SEP.join(
        (
            point,
            quantity,
            format_ts(ts),
            repr(float(value)),
            unit,
            sample_id or "",
            format_ts(analyzed_at),
            laboratory or "",
        )
    )


def content_hash(lines: Iterable[str]) -> str:
    """sha256 of the lines joined by ``\\n`` (no newline after the last)."""
    h = hashlib.sha256()
    first = True
    for line in lines:
        if not first:
            h.update(b"\n")
        h.update(line.encode("utf-8"))
        first = False
    return h.hexdigest()


#: DuckDB format of canonical times (:func:`format_ts`).
TS_FORMAT_SQL = "'%Y-%m-%dT%H:%M:%S.%fZ'"


def ts_sql(column: str, *, naive_utc: bool = False) -> str:
    """DuckDB expression of a time column in canonical form ('' for NULL)."""
    utc = column if naive_utc else f"timezone('UTC', {column})"
    return f"COALESCE(strftime({utc}, {TS_FORMAT_SQL}), '')"


def line_sql(*, naive_utc: bool = False, ts_text: str | None = None) -> str:
    """DuckDB expression of ``'\n' || canonical line`` over columns named as in the lake (feed it to
    :class:`ContentHasher`). ``naive_utc``: the time columns are TIMESTAMP holding UTC (the ingest
    pipeline's, formatted without the time-zone library); otherwise TIMESTAMPTZ (the lake's). ``ts_text``:
    a column already holding ``ts`` in canonical form (the ingest formats each distinct instant once)."""
    ts = ts_text or ts_sql("ts", naive_utc=naive_utc)
    return (
        f"chr(10) || concat_ws(chr(9), point, quantity, {ts}, CAST(value AS VARCHAR), unit, "
        f"COALESCE(sample_id, ''), {ts_sql('analyzed_at', naive_utc=naive_utc)}, COALESCE(laboratory, ''))"
    )


#: :func:`line_sql` over the lake's files.
LINE_SQL = line_sql()


class ContentHasher:
    """Content hash from Arrow arrays of ``'\\n' + line`` strings (:data:`LINE_SQL`), fed in row order.

    The string data buffer of an Arrow array is the concatenation of its values, so a chunk is hashed with
    one ``update`` (the leading newline of the very first line is skipped).
    """

    def __init__(self) -> None:
        self._h = hashlib.sha256()
        self._first = True
        self.rows = 0

    def update(self, array: pa.Array | pa.ChunkedArray) -> None:
        chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
        for chunk in chunks:
            if len(chunk) == 0:
                continue
            if chunk.null_count:
                raise ValueError("a canonical line is never null")
            if pa.types.is_dictionary(chunk.type) or not (
                pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)
            ):
                chunk = chunk.cast(pa.large_string())
            offsets_buf, data_buf = chunk.buffers()[1], chunk.buffers()[2]
            offsets = memoryview(offsets_buf).cast("q" if pa.types.is_large_string(chunk.type) else "i")
            start, end = offsets[chunk.offset], offsets[chunk.offset + len(chunk)]
            data = memoryview(data_buf)[start:end]
            if self._first:
                data = data[1:]
                self._first = False
            self._h.update(data)
            self.rows += len(chunk)

    def hexdigest(self) -> str:
        return self._h.copy().hexdigest()


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8 (not ASCII-escaped): the same bytes whoever serialises it."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_hash(prev_chain_hash: str, content: str, metadata: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_chain_hash + content).encode("ascii") + canonical_json(metadata)).hexdigest()


@dataclass(frozen=True)
class FileRecord:
    """A Parquet file of a batch: path relative to the lake, sha256 of its bytes, rows."""

    path: str
    sha256: str
    rows: int

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "rows": self.rows}


def batch_metadata(
    *,
    seq: int,
    org: str,
    source: str,
    filename: str,
    rows: int,
    files: Sequence[FileRecord],
    corrects: int | None,
    reason: str,
    user: str | None,
    created_at: datetime,
) -> dict[str, Any]:
    """The metadata hashed into the chain (contract): files sorted by path, ``created_at`` in UTC."""
    return {
        "seq": seq,
        "org": org,
        "source": source,
        "filename": filename,
        "rows": rows,
        "files": [f.as_json() for f in sorted(files, key=lambda f: f.path)],
        "corrects": corrects,
        "reason": reason,
        "user": user,
        "created_at": format_ts(created_at),
    }


@dataclass(frozen=True)
class BatchRecord:
    """A batch as the database holds it, for verification (the columns beside the metadata are checked
    against it: the chain hash covers the metadata, so an edited column must disagree with it)."""

    seq: int
    org: str
    source: str
    filename: str
    rows: int
    content_hash: str
    prev_chain_hash: str
    chain_hash: str
    metadata: Mapping[str, Any]
    files: tuple[FileRecord, ...]
    corrects: int | None = None
    reason: str = ""
    user: str | None = None
    created_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "org": self.org,
            "source": self.source,
            "filename": self.filename,
            "rows": self.rows,
            "content_hash": self.content_hash,
            "prev_chain_hash": self.prev_chain_hash,
            "chain_hash": self.chain_hash,
            "metadata": dict(self.metadata),
            "files": [f.as_json() for f in self.files],
            "corrects": self.corrects,
            "reason": self.reason,
            "user": self.user,
            "created_at": format_ts(self.created_at),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BatchRecord:
        created = d.get("created_at") or None
        return cls(
            seq=int(d["seq"]),
            org=str(d["org"]),
            source=str(d["source"]),
            filename=str(d["filename"]),
            rows=int(d["rows"]),
            content_hash=str(d["content_hash"]),
            prev_chain_hash=str(d["prev_chain_hash"]),
            chain_hash=str(d["chain_hash"]),
            metadata=dict(d["metadata"]),
            files=tuple(FileRecord(str(f["path"]), str(f["sha256"]), int(f["rows"])) for f in d["files"]),
            corrects=d.get("corrects"),
            reason=str(d.get("reason", "")),
            user=d.get("user"),
            created_at=datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None,
        )


@dataclass(frozen=True)
class Problem:
    """One thing wrong: the batch it concerns (None: none can be named), what, where and in words."""

    seq: int | None
    kind: str
    path: str
    detail: str

    def __str__(self) -> str:
        where = f" {self.path}" if self.path else ""
        batch = f"#{self.seq}" if self.seq is not None else "—"
        return f"batch {batch} {self.kind}{where}: {self.detail}"


@dataclass
class VerifyResult:
    batches: int = 0
    files: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> int | None:
        """The lowest batch any problem names (None when no problem names a batch)."""
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None


def link_problems(batches: Sequence[BatchRecord]) -> list[Problem]:
    """The chain alone (no files): links, recomputed chain hashes, metadata against the columns."""
    problems: list[Problem] = []
    prev = ZERO_HASH
    expected_seq = batches[0].seq if batches else 1
    for b in sorted(batches, key=lambda b: b.seq):
        if b.seq != expected_seq:
            problems.append(
                Problem(
                    b.seq, "batch_missing", "", f"batch #{expected_seq} expected before #{b.seq}: removed"
                )
            )
        expected_seq = b.seq + 1
        if b.prev_chain_hash != prev:
            problems.append(
                Problem(b.seq, "chain_link", "", "prev_chain_hash is not the chain hash of the batch before")
            )
        if chain_hash(b.prev_chain_hash, b.content_hash, b.metadata) != b.chain_hash:
            problems.append(
                Problem(b.seq, "chain_hash", "", "chain hash does not match content hash and metadata")
            )
        problems.extend(metadata_problems(b))
        prev = b.chain_hash
    return problems


def metadata_problems(b: BatchRecord) -> list[Problem]:
    md = b.metadata
    out: list[Problem] = []
    columns: dict[str, Any] = {
        "seq": b.seq,
        "org": b.org,
        "source": b.source,
        "filename": b.filename,
        "rows": b.rows,
        "corrects": b.corrects,
        "reason": b.reason,
        "user": b.user,
    }
    if b.created_at is not None:
        columns["created_at"] = format_ts(b.created_at)
    for key, value in columns.items():
        if md.get(key) != value:
            out.append(
                Problem(b.seq, "batch_altered", "", f"{key} is {value!r} but the chain says {md.get(key)!r}")
            )
    listed = sorted((f.as_json() for f in b.files), key=lambda f: f["path"])
    if md.get("files") != listed:
        out.append(Problem(b.seq, "batch_altered", "", "its file list differs from the one in the chain"))
    if sum(f.rows for f in b.files) != b.rows:
        out.append(Problem(b.seq, "batch_altered", "", "rows is not the sum of its files' rows"))
    return out


def file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def verify(
    lake: Path,
    batches: Sequence[BatchRecord],
    *,
    deleted: Collection[str] = (),
    content: bool = True,
    anchors: Sequence[Anchor] | None = None,
    expect_head: str | None = None,
) -> VerifyResult:
    """Check the chain, every file of every batch and every file in the lake.

    ``deleted``: paths lawfully removed after archiving (retention); they are not looked for, and the
    content hash of a batch with such a file is checked in its archive instead. ``anchors`` (the lake's
    anchor file, :func:`read_anchors`) and ``expect_head``: heads the chain must still reach
    (:func:`anchor_problems`); None checks no anchor.
    """
    # lake imports this module (file records, hashes); the file walking is imported here, when used.
    from carbonmeter.readings import lake as lake_mod
    from carbonmeter.readings import sums as sums_mod

    result = VerifyResult(batches=len(batches))
    result.problems.extend(link_problems(batches))
    if anchors is not None or expect_head is not None:
        result.problems.extend(anchor_problems(batches, anchors or (), expect_head=expect_head))
    named = {f.path for b in batches for f in b.files}
    deleted_set = set(deleted)
    con = lake_mod.connect() if content else None
    try:
        for b in sorted(batches, key=lambda b: b.seq):
            kept = [f for f in b.files if f.path not in deleted_set]
            for f in kept:
                result.files += 1
                problem = file_problem(lake, b.seq, f)
                if problem is not None:
                    result.problems.append(problem)
                elif content:
                    result.problems.extend(sums_problems(lake, b.seq, f))
            if con is not None and b.files and len(kept) == len(b.files):
                result.problems.extend(content_problems(con, lake, b))
    finally:
        if con is not None:
            con.close()
    data = lake_mod.data_files(lake)
    for rel in data:
        if rel not in named:
            result.problems.append(
                Problem(lake_mod.batch_of(rel), "file_unnamed", rel, "a file in the lake that no batch names")
            )
    for rel in sorted(set(sums_mod.files(lake)) - set(data)):
        path = sums_mod.sums_path(rel)
        result.problems.append(Problem(lake_mod.batch_of(rel), "sums_unnamed", path, "day sums without data"))
    return result


def sums_problems(lake: Path, seq: int, f: FileRecord) -> list[Problem]:
    """The day sums beside an intact data file: present and equal to those recomputed from it."""
    from carbonmeter.readings import sums as sums_mod

    found = sums_mod.problem(lake, f.path)
    return [] if found is None else [Problem(seq, found[0], sums_mod.sums_path(f.path), found[1])]


def file_problem(lake: Path, seq: int, f: FileRecord) -> Problem | None:
    from carbonmeter.readings import lake as lake_mod

    path = lake / f.path
    if not path.is_file():
        staged = lake_mod.staged_copy(lake, f.path)
        detail = "still in staging: run recovery" if staged else "missing"
        return Problem(seq, "file_missing", f.path, detail)
    if file_sha256(path) != f.sha256:
        return Problem(seq, "file_altered", f.path, "sha256 of the file differs from the recorded one")
    return None


def content_problems(con: Any, lake: Path, b: BatchRecord) -> list[Problem]:
    """Rows of the batch's files: their count, their batch column and (recomputed) content hash."""
    from carbonmeter.readings import lake as lake_mod

    present = [f for f in b.files if (lake / f.path).is_file()]
    if len(present) != len(b.files):
        return []
    out: list[Problem] = []
    hasher = ContentHasher()
    try:
        rows_per_file = lake_mod.file_rows(con, [lake / f.path for f in present])
        for f in present:
            found = rows_per_file[str(lake / f.path)]
            if found != f.rows:
                kind = "rows_added" if found > f.rows else "rows_removed"
                out.append(Problem(b.seq, kind, f.path, f"{found} rows in the file, {f.rows} recorded"))
        files_sql = lake_mod.files_sql([lake / f.path for f in present])
        other = con.sql(f"SELECT count(*) FROM {files_sql} WHERE batch IS DISTINCT FROM {b.seq}").fetchall()
        if other and other[0][0]:
            out.append(Problem(b.seq, "rows_altered", "", f"{other[0][0]} rows carry another batch number"))
        reader = con.sql(f"SELECT {LINE_SQL} AS line FROM {files_sql} ORDER BY row").to_arrow_reader(1 << 16)
        for batch in reader:
            hasher.update(batch.column(0))
    except Exception as exc:  # an unreadable file is a problem to report, not a crash of verification
        return [Problem(b.seq, "file_unreadable", "", f"cannot read the batch's rows: {exc}")]
    if hasher.hexdigest() != b.content_hash:
        out.append(
            Problem(b.seq, "rows_altered", "", "content hash of the rows differs from the recorded one")
        )
    return out


# --- anchors: the chain head kept outside the database ----------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """The ledger's end as it was at ``time``: ``batches`` batches, the last ``seq`` with chain ``head``."""

    time: str
    batches: int
    seq: int
    head: str

    def as_json(self) -> dict[str, Any]:
        return {"time": self.time, "batches": self.batches, "seq": self.seq, "head": self.head}


def head_anchor(batches: Sequence[BatchRecord], now: datetime) -> Anchor | None:
    """The anchor of the ledger's current end (None for an empty ledger)."""
    if not batches:
        return None
    last = max(batches, key=lambda b: b.seq)
    return Anchor(format_ts(now), len(batches), last.seq, last.chain_hash)


def fsync_dir(path: Path) -> None:
    """Make a folder's entries durable (a file created or renamed in it survives a power cut)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_anchor(lake: Path, anchor: Anchor) -> None:
    """Append one line to ``<lake>/_anchors.jsonl`` and fsync it (and the folder when the file is new).

    Opened ``O_APPEND`` and written with one ``write``: earlier lines are never rewritten, and concurrent
    appends (there is one writer per lake anyway) cannot interleave within a line."""
    lake.mkdir(parents=True, exist_ok=True)
    path = lake / ANCHORS
    new = not path.exists()
    line = json.dumps(anchor.as_json(), sort_keys=True, separators=(",", ":")).encode("ascii") + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    if new:
        fsync_dir(lake)


def create_anchor_file(lake: Path) -> None:
    """Create the (empty) anchor file, durably, before the first batch is committed: a crash between that
    commit and its anchor then leaves a file that recovery may append to, while a file that is missing
    altogether means it was removed."""
    path = lake / ANCHORS
    if path.exists():
        return
    lake.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    dfd = os.open(lake, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def read_anchors(lake: Path) -> tuple[list[Anchor], list[Problem]]:
    """The anchors of ``<lake>/_anchors.jsonl`` in file order; a line that is not an anchor is a problem
    (a torn last line after a crash included: it is reported, the earlier anchors still count)."""
    path = lake / ANCHORS
    anchors: list[Anchor] = []
    problems: list[Problem] = []
    if not path.is_file():
        return anchors, problems
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            d = json.loads(raw)
            anchor = Anchor(str(d["time"]), int(d["batches"]), int(d["seq"]), str(d["head"]))
            if not HEX64.fullmatch(anchor.head):
                raise ValueError("head is not 64 hex digits")
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(
                Problem(None, "anchor_unreadable", f"{ANCHORS}:{number}", f"not an anchor: {exc}")
            )
            continue
        anchors.append(anchor)
    return anchors, problems


def anchor_problems(
    batches: Sequence[BatchRecord], anchors: Sequence[Anchor], *, expect_head: str | None = None
) -> list[Problem]:
    """Whether the chain still reaches every anchor and ``expect_head``: a batch with the anchored ``seq``
    and chain hash must exist, and no anchor may count more batches than the ledger holds. A ledger with
    batches but no anchor at all is a problem too (the anchor file was removed, or never written: run
    ``carbonmeter ledger anchor`` once after a verification that passed)."""
    by_seq = {b.seq: b for b in batches}
    heads = {b.chain_hash: b for b in batches}
    last = max(by_seq) if by_seq else 0
    out: list[Problem] = []
    if batches and not anchors and expect_head is None:
        out.append(
            Problem(None, "anchor_missing", ANCHORS, "the ledger has batches but no anchor names its head")
        )
    for a in anchors:
        where = f"{ANCHORS} ({a.time})"
        found = by_seq.get(a.seq)
        if found is None or found.chain_hash != a.head:
            if found is None and a.seq > last:
                missing = (
                    f"batches #{last + 1}–#{a.seq} are missing"
                    if a.seq > last + 1
                    else (f"batch #{a.seq} is missing")
                )
                detail = (
                    f"the anchor names batch #{a.seq} with head {a.head}; the ledger ends at #{last}: "
                    + missing
                )
            elif found is None:
                detail = f"the anchor names batch #{a.seq} with head {a.head}; that batch is missing"
            else:
                detail = (
                    f"the anchor names batch #{a.seq} with head {a.head}; the ledger's #{a.seq} has "
                    f"{found.chain_hash}: the chain was rewritten"
                )
            out.append(Problem(a.seq, "anchor_unreached", where, detail))
        elif a.batches > len(batches):
            out.append(
                Problem(
                    a.seq,
                    "anchor_unreached",
                    where,
                    f"the anchor counts {a.batches} batches, the ledger holds {len(batches)}: "
                    "batches removed",
                )
            )
    if expect_head is not None and expect_head not in heads:
        out.append(
            Problem(
                None,
                "head_unreached",
                "--expect-head",
                f"no batch has chain hash {expect_head}; the ledger ends at #{last}",
            )
        )
    return out
