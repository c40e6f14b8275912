"""The bytes of a CSV file before its cells: which encoding, how many records, and which records cannot be
decoded — so that one bad byte costs one quarantined row, never the file.

Pure (stdlib and numpy). A *record* is what a CSV reader yields: it ends at a line break (``\\n``,
``\\r\\n`` or a lone ``\\r``, as old Mac and some loggers write) that is not inside a quoted cell. Counting
records rather than ``\\n`` bytes makes the row limit hold for CR-only files (one "line" of ten million rows)
and exact for quoted line breaks (a note cell over three lines is one row). Record numbers are 1-based with
the header as record 1, as pyarrow numbers rows and as a spreadsheet shows them.

The quote parity is carried through the file chunk by chunk, so counting is one pass over the bytes: a chunk
without a quote is counted with ``bytes.count`` (memchr speed), one with quotes through numpy.
"""

from __future__ import annotations

import base64
import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Bytes read per step when counting; one chunk's numpy masks are a few times this.
CHUNK = 1 << 24
#: The encodings a readings CSV may be in, as Python names them.
UTF8, UTF8_SIG, GB18030, UTF16 = "utf-8", "utf-8-sig", "gb18030", "utf-16"
#: More undecodable records than this and the file is not text in its encoding at all: refused whole.
MAX_BAD_RECORDS = 1000
#: A decoding error handler that keeps every undecodable byte as a lone surrogate (U+DC00 + byte): text
#: with marks where the bytes were bad, and the original bytes recoverable exactly (:func:`restore`).
#: Unlike ``surrogateescape`` it also takes bytes below 0x80 (UTF-16).
MARK = "carbonmeter-mark"
_MARKED = re.compile("[\udc00-\udcff]")


def _mark(exc: UnicodeError) -> tuple[str, int]:
    if isinstance(exc, UnicodeDecodeError):
        if "16" in exc.encoding:  # code units of two bytes: resuming mid-unit would misalign the rest
            return "".join(chr(0xDC00 + b) for b in exc.object[exc.start : exc.end]), exc.end
        # One byte at a time: a multi-byte decoder may claim the next bytes (a line break) as the rest
        # of the bad sequence; resuming after the first keeps them.
        return chr(0xDC00 + exc.object[exc.start]), exc.start + 1
    raise exc


def restore(text: str, encoding: str) -> bytes:
    """The original bytes of text decoded with :data:`MARK` (marks back to their bytes)."""
    out: list[bytes] = []
    at = 0
    for m in re.finditer("[\udc00-\udcff]+", text):
        out += [text[at : m.start()].encode(encoding), bytes(ord(c) - 0xDC00 for c in m.group())]
        at = m.end()
    out.append(text[at:].encode(encoding))
    return b"".join(out)


codecs.register_error(MARK, _mark)


def sniff(head: bytes) -> str:
    """The encoding of a file from its first bytes: a BOM decides (UTF-8 or UTF-16); otherwise UTF-8 unless
    GB18030 (what Chinese Excel writes) reads it with fewer errors. A stray bad byte in a UTF-8 file is one
    error in UTF-8 and as many or more in GB18030, so it stays UTF-8 and only its row is quarantined."""
    if head.startswith(codecs.BOM_UTF8):
        return UTF8_SIG
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return UTF16
    body = head[:-4] if len(head) > 4 else head  # a character may be cut at the end of the sample
    utf8 = _errors(body, UTF8)
    if utf8 == 0:
        return UTF8
    return GB18030 if _errors(body, GB18030) < utf8 else UTF8


def _errors(data: bytes, encoding: str) -> int:
    return len(_MARKED.findall(data.decode(encoding, MARK)))


def count_records(path: Path, encoding: str) -> int:
    """Records in the file, header included (an empty last line is not a record)."""
    if encoding == UTF16:
        return _count(_utf8_chunks(path))
    return _count(_chunks(path))


def at_most_records(path: Path, encoding: str) -> int:
    """An upper bound of :func:`count_records` at ``bytes.count`` speed: every line break (``\\n``,
    ``\\r\\n`` or a lone ``\\r``) plus one. Exact unless a quoted cell holds a line break, so a limit is
    checked with this first and :func:`count_records` runs only for a file that may exceed it."""
    chunks = _utf8_chunks(path) if encoding == UTF16 else _chunks(path)
    lines = 1
    for chunk in chunks:
        lines += chunk.count(b"\n")
        if cr := chunk.count(b"\r"):
            lines += cr - chunk.count(b"\r\n")
    return lines


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _utf8_chunks(path: Path) -> Iterator[bytes]:
    """A UTF-16 file as UTF-8 chunks (quotes and line breaks are then single bytes)."""
    decoder = codecs.getincrementaldecoder(UTF16)(MARK)
    for chunk in _chunks(path):
        yield decoder.decode(chunk).encode(UTF8, "surrogatepass")
    yield decoder.decode(b"", final=True).encode(UTF8, "surrogatepass")


def _count(chunks: Iterator[bytes]) -> int:
    records = 0
    quoted = False  # inside a quoted cell at the end of the previous chunk
    cr_pending = False  # the previous chunk ended with a \r that ended a record
    last = b""
    for chunk in chunks:
        if cr_pending and chunk[:1] == b"\n":
            chunk = chunk[1:]  # the \n of a \r\n split across chunks: already counted
        cr_pending = False
        if not chunk:
            continue
        last = chunk
        if not quoted and b'"' not in chunk and b"\r" not in chunk:
            records += chunk.count(b"\n")  # the usual file: memchr speed
            continue
        breaks, quoted = _breaks(chunk, quoted)
        records += len(breaks)
        cr_pending = bool(len(breaks)) and int(breaks[-1]) == len(chunk) - 1 and chunk.endswith(b"\r")
    if last and (quoted or not last.endswith((b"\n", b"\r"))):
        records += 1  # a last record without a line break (or an unclosed quote: one more record)
    return records


def _breaks(chunk: bytes, quoted: bool) -> tuple[np.ndarray, bool]:
    """Offsets in ``chunk`` of the bytes that end a record (the ``\\n`` of ``\\r\\n``), and whether a
    quoted cell is still open at its end. Vectorised over the positions of quotes and line breaks (a few
    per row), not over every byte."""
    a = np.frombuffer(chunk, np.uint8)
    ends = np.flatnonzero(a == 10)
    if b"\r" in chunk:
        cr = np.flatnonzero(a == 13)
        lone = cr[(cr + 1 >= len(a)) | (a[np.minimum(cr + 1, len(a) - 1)] != 10)]
        ends = np.union1d(ends, lone)
    carry = int(quoted)
    if b'"' not in chunk:
        return (np.zeros(0, np.int64) if carry else ends), quoted
    # Quotes seen so far, modulo 256 (uint8 wraps, and 256 is even: the parity survives).
    seen = np.cumsum(a == 34, dtype=np.uint8)
    inside = (seen[ends] + carry) & 1
    return ends[inside == 0], bool((int(seen[-1]) + carry) & 1)


def has_mark(text: str) -> bool:
    """Whether decoded text holds an undecodable byte."""
    return _MARKED.search(text) is not None


def escaped(text: str) -> str:
    """Decoded text with each undecodable byte written ``\\xNN``."""
    return _MARKED.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


@dataclass(frozen=True)
class BadRecord:
    """A record with bytes its encoding cannot decode: its number and original bytes."""

    row: int
    raw: bytes
    encoding: str

    def text(self) -> str:
        """The record as text with each undecodable byte written ``\\xNN`` (shown, never guessed)."""
        return escaped(self.raw.decode(self.encoding, MARK).rstrip("\r\n"))

    def raw_cells(self) -> dict[str, str]:
        """What a quarantined row keeps of it: the text escaped and the exact bytes (base64)."""
        return {"text": self.text(), "bytes_base64": base64.b64encode(self.raw).decode("ascii")}


@dataclass(frozen=True)
class Repaired:
    """A file as UTF-8 text with its undecodable records emptied (so they read as blank rows, numbered as
    before), and those records."""

    text: bytes
    bad: list[BadRecord]


class TooManyBadRecords(ValueError):
    """More than :data:`MAX_BAD_RECORDS` records do not decode: the file is not text in that encoding."""

    def __init__(self, encoding: str, first: BadRecord, count: int) -> None:
        self.encoding = encoding
        self.first = first
        self.count = count
        super().__init__(f"{count} records are not {encoding} text, the first at row {first.row}")


def repair(data: bytes, encoding: str) -> Repaired:
    """``data`` decoded from ``encoding`` and re-encoded as UTF-8, each record holding an undecodable byte
    replaced by an empty line. Raises :class:`TooManyBadRecords` beyond :data:`MAX_BAD_RECORDS`."""
    plain = _plain(encoding, data)
    text = data.decode(encoding, MARK)
    if encoding == UTF16 and text.startswith("\ufeff"):
        text = text[1:]
    buf = text.encode(UTF8, "surrogatepass")  # a mark is three bytes ED B0..B3 xx: never a quote or break
    marks = [m.start() for m in re.finditer(rb"\xed[\xb0-\xb3][\x80-\xbf]", buf)]
    if not marks:
        return Repaired(buf, [])
    breaks, _quoted = _breaks(buf, False)
    starts = np.concatenate(([0], breaks + 1))
    index = sorted(set(np.searchsorted(breaks, np.array(marks), side="left").tolist()))
    if len(index) > MAX_BAD_RECORDS:
        first = index[0]
        start, end = int(starts[first]), int(breaks[first]) + 1 if first < len(breaks) else len(buf)
        raw = restore(buf[start:end].decode(UTF8, "surrogatepass"), plain)
        raise TooManyBadRecords(encoding, BadRecord(first + 1, raw, plain), len(index))
    bad: list[BadRecord] = []
    pieces: list[bytes] = []
    at = 0
    for i in index:
        start = int(starts[i])
        end = int(breaks[i]) + 1 if i < len(breaks) else len(buf)
        record = buf[start:end]
        raw = restore(record.decode(UTF8, "surrogatepass"), plain)
        bad.append(BadRecord(i + 1, raw, plain))
        keep = b"\r\n" if record.endswith(b"\r\n") else record[-1:] if record[-1:] in (b"\n", b"\r") else b""
        pieces += [buf[at:start], keep]
        at = end
    pieces.append(buf[at:])
    return Repaired(b"".join(pieces), bad)


def _plain(encoding: str, data: bytes) -> str:
    """The codec that gives a record's original bytes back (no BOM: a record is not a file's start)."""
    if encoding == UTF16:
        return "utf-16-be" if data.startswith(codecs.BOM_UTF16_BE) else "utf-16-le"
    return UTF8 if encoding == UTF8_SIG else encoding
