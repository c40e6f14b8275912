"""Just enough PDF reading to check what headless Chromium printed, for machines without ``pdftotext``.

Chromium's PDFs (Skia) are simple: direct objects, Flate streams with a direct ``/Length``, fonts with a
``/ToUnicode`` CMap, text shown with ``<hex> Tj`` or ``[<hex> n <hex>] TJ`` after a ``/Fn size Tf``.  That is
all this reads; it is a test helper, not a PDF parser.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

_OBJ = re.compile(rb"(\d+) 0 obj\b")
_LENGTH = re.compile(rb"/Length (\d+)\b")
_TEXT = re.compile(rb"/([\w.+-]+) [\d.]+ Tf|\[(.*?)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj|(?<![\w/])(ET)(?!\w)", re.S)


@dataclass(frozen=True)
class Pdf:
    pages: int
    #: Width and height of the first page's MediaBox, in points.
    size: tuple[float, float]
    text: str


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number → (dictionary text, decoded stream or None)."""
    out: dict[int, tuple[bytes, bytes | None]] = {}
    pos = 0
    while match := _OBJ.search(pdf, pos):
        start = match.end()
        end = pdf.find(b"endobj", start)
        head_end = pdf.find(b"stream", start, end)
        data = None
        if head_end != -1:
            head = pdf[start:head_end]
            length = _LENGTH.search(head)
            assert length, f"object {match.group(1)!r}: stream without a direct /Length"
            body_start = head_end + len(b"stream") + (2 if pdf[head_end + 6 : head_end + 8] == b"\r\n" else 1)
            data = pdf[body_start : body_start + int(length.group(1))]
            if b"/FlateDecode" in head:
                data = zlib.decompress(data)
            end = pdf.find(b"endobj", body_start + int(length.group(1)))
        else:
            head = pdf[start:end]
        out[int(match.group(1))] = (head, data)
        pos = end + len(b"endobj")
    return out


def _cmap(data: bytes) -> dict[str, str]:
    """A ToUnicode CMap as {lower-case hex code: text}."""
    table: dict[str, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[src.decode().lower()] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = bytes.fromhex(dst.decode()).decode("utf-16-be")
            for n, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                table[f"{code:0{len(lo)}x}"] = first[:-1] + chr(ord(first[-1]) + n)
    return table


def _decode(hexes: list[bytes], table: dict[str, str]) -> str:
    width = len(next(iter(table), "00"))
    out = []
    for h in hexes:
        text = h.decode().lower()
        out.extend(table.get(text[i : i + width], "\ufffd") for i in range(0, len(text), width))
    return "".join(out)


def read_pdf(pdf: bytes) -> Pdf:
    """Pages, first page size and the text of a PDF written by Chromium, each page's text on its lines."""
    objs = _objects(pdf)
    unicode_maps: dict[int, dict[str, str]] = {}
    for num, (head, _data) in objs.items():
        ref = re.search(rb"/ToUnicode (\d+) 0 R", head)
        if ref and objs.get(int(ref.group(1)), (b"", None))[1] is not None:
            unicode_maps[num] = _cmap(objs[int(ref.group(1))][1] or b"")
    pages = [head for head, _ in objs.values() if re.search(rb"/Type /Page\b", head)]
    lines: list[str] = []
    for head in pages:
        fonts = re.search(rb"/Font\s*<<(.*?)>>", head, re.S)
        names = dict(re.findall(rb"/([\w.+-]+) (\d+) 0 R", fonts.group(1))) if fonts else {}
        for content in re.findall(rb"/Contents (\d+) 0 R", head):
            table: dict[str, str] = {}
            line: list[str] = []  # the text of one BT … ET block
            for tok in _TEXT.finditer(objs[int(content)][1] or b""):
                if tok.group(1):
                    table = unicode_maps.get(int(names.get(tok.group(1), b"0")), {})
                elif tok.group(2) is not None:
                    line.append(_decode(re.findall(rb"<([0-9A-Fa-f]*)>", tok.group(2)), table))
                elif tok.group(3) is not None:
                    line.append(_decode([tok.group(3)], table))
                else:
                    lines.append("".join(line))
                    line = []
    box = re.search(rb"/MediaBox \[\s*([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)\s*\]", pages[0] if pages else b"")
    size = (
        (float(box.group(3)) - float(box.group(1)), float(box.group(4)) - float(box.group(2)))
        if box
        else (0, 0)
    )
    return Pdf(pages=len(pages), size=size, text="\n".join(lines))


def pdf_text(path: Path) -> str:
    """The text of ``path``: by ``pdftotext`` where it is installed, else by :func:`read_pdf`."""
    tool = shutil.which("pdftotext")
    if tool:
        return subprocess.run([tool, str(path), "-"], check=True, capture_output=True, text=True).stdout
    return read_pdf(path.read_bytes()).text
