"""Fuzzing the readers through the real command-line entry: any file gives exit 0 or 2, never 1.

Each test starts from a valid file (the mini plant as JSON and as a workbook, the default rule pack) and
mutates it byte-wise (flips, insertions, deletions, truncation) and structurally (a value, a key, a row or
a cell attribute replaced by something hostile), then runs ``carbonmeter.cli.main.main`` in this process.
An uncaught exception fails the test, and so does exit 1 (an internal error).  The budget is fixed
(``max_examples``, no deadline) so each test stays well under 20 s on the shared machine.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import re
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonmeter.cli.main import main
from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.io.snapshot_xlsx import write_xlsx
from carbonmeter.rules.loader import builtin_pack_files

MINI = Path(__file__).parent.parent / "data" / "mini.json"
MINI_BYTES = MINI.read_bytes()
PACK_BYTES = builtin_pack_files()[0].read_bytes()
FUZZ = settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def _mini_xlsx() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mini.xlsx"
        write_xlsx(parse_json(MINI_BYTES, "mini"), path)
        return path.read_bytes()


MINI_XLSX = _mini_xlsx()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The CLI writes to stdout/stderr; keep both (stdout with a byte buffer, as a real one has)."""
    with (
        contextlib.redirect_stdout(io.TextIOWrapper(io.BytesIO())),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        yield


def exit_code(*args: str) -> int:
    """``main(args)`` in this process; ``assess`` switches the cyclic collector off, so it is put back."""
    enabled = gc.isenabled()
    try:
        with quiet():
            return main(list(args))
    finally:
        if enabled:
            gc.enable()


def run_file(suffix: str, data: bytes, *command: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        if command and command[0] == "rules":
            return exit_code(*command, str(path))
        out = Path(tmp) / "out.json"
        return exit_code("assess", str(path), "--format", "json", "-o", str(out), *command)


# ------------------------------------------------------------------------------------------------
# Mutations
# ------------------------------------------------------------------------------------------------

HOSTILE_BYTES = st.sampled_from(
    [b"\x00", b"\xff", b"\xc3", b"\xe2\x80", b"[", b"{", b'"', b"]]]]", b"1e999", b"-", b"<", b"&", b"]]>"]
)


@st.composite
def byte_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """A few flips, insertions or deletions, or a truncation, of ``data``."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "hostile"]))
        if kind == "flip" and out:
            out[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del out[at : at + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del out[at:]
        else:
            out[at:at] = draw(HOSTILE_BYTES)
    return bytes(out)


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1.7e308, -1.7e308, 5e-324, 0.0, -0.0]),
    st.text(max_size=20),
    st.sampled_from(
        ["", " ", "P1 ", "Ｐ１", "2025-02-30", "0000-01-01", "9999-12-31", "\u3000", "=A1", "#N/A"]
    ),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


DEEP = "__deep__"


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += _paths(value, (*prefix, index))
    return found


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return doc


@st.composite
def structural_mutation(draw: st.DrawFn, doc: Any) -> Any:
    """``doc`` with a few values replaced, keys added or removed, or nesting made very deep."""
    doc = json.loads(json.dumps(doc))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        kind = draw(st.sampled_from(["value", "key", "drop", "deep"]))
        target = doc
        for part in path:
            target = target[part]
        if kind == "key" and isinstance(target, dict):
            target[draw(st.sampled_from(["extra", "zz", "id", "points", "date"]))] = draw(JSON_VALUES)
        elif kind == "drop" and isinstance(target, dict) and target:
            del target[draw(st.sampled_from(sorted(target)))]
        elif kind == "deep":  # a marker, written out as nested brackets by deep_json (json.dumps recurses)
            doc = _set(doc, path, f"{DEEP}{draw(st.sampled_from([10, 900, 5_000]))}")
        else:
            doc = _set(doc, path, draw(JSON_VALUES))
    return doc


# ------------------------------------------------------------------------------------------------
# JSON snapshot
# ------------------------------------------------------------------------------------------------


@FUZZ
@given(data=byte_mutation(MINI_BYTES))
def test_json_snapshot_bytes(data: bytes) -> None:
    assert run_file(".json", data) in (0, 2)


def deep_json(doc: Any) -> str:
    """``doc`` as JSON, each deep-nesting marker replaced by that many nested arrays."""

    def nested(match: re.Match[str]) -> str:
        depth = int(match.group(1))
        return "[" * depth + "]" * depth

    return re.sub(rf'"{DEEP}(\d+)"', nested, json.dumps(doc, ensure_ascii=False))


@FUZZ
@given(doc=structural_mutation(json.loads(MINI_BYTES)))
def test_json_snapshot_structure(doc: Any) -> None:
    assert run_file(".json", deep_json(doc).encode("utf-8")) in (0, 2)


# ------------------------------------------------------------------------------------------------
# XLSX snapshot
# ------------------------------------------------------------------------------------------------

with zipfile.ZipFile(io.BytesIO(MINI_XLSX)) as _book:
    XLSX_PARTS = {name: _book.read(name) for name in _book.namelist()}
SHEETS = sorted(name for name in XLSX_PARTS if name.startswith("xl/worksheets/"))
XML_PARTS = sorted(name for name in XLSX_PARTS if name.endswith((".xml", ".rels")))
ATTRIBUTES = st.sampled_from(['r="', 't="', 's="'])
ATTRIBUTE_VALUES = st.sampled_from(
    ["0", "-1", "!!", "A0", "XFE1", "1048577", "99999", "s", "n", "d", "b", "e", "str", "inlineStr", "x", ""]
)
CELL_CONTENT = st.sampled_from(
    [
        "<v>abc</v>",
        "<v>99999</v>",
        "<v>-1</v>",
        "<v>1e999</v>",
        "<v>2025-13-45</v>",
        "<v>#N/A</v>",
        "<f>A1</f>",
        "<f>A1</f><v></v>",
        "<is><t>Ｐ１ </t></is>",
        "",
    ]
)


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for name, data in parts.items():
            book.writestr(name, data)
    return out.getvalue()


@st.composite
def xlsx_structure(draw: st.DrawFn) -> bytes:
    """The mini workbook with a sheet's attributes, cell contents or row order changed."""
    parts = dict(XLSX_PARTS)
    name = draw(st.sampled_from(SHEETS))
    xml = parts[name].decode("utf-8")
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["attribute", "content", "swap", "drop"]))
        if kind == "attribute":
            spots = [m.end() for m in re.finditer(re.escape(draw(ATTRIBUTES)), xml)]
            if spots:
                at = draw(st.sampled_from(spots))
                end = xml.index('"', at)
                xml = xml[:at] + draw(ATTRIBUTE_VALUES) + xml[end:]
        elif kind == "content":
            cells = list(re.finditer(r"(<c [^>]*?)(/>|>.*?</c>)", xml))
            if cells:
                cell = draw(st.sampled_from(cells))
                xml = (
                    xml[: cell.start()]
                    + cell.group(1)
                    + ">"
                    + draw(CELL_CONTENT)
                    + "</c>"
                    + xml[cell.end() :]
                )
        else:
            rows = list(re.finditer(r"<row [^>]*>.*?</row>", xml))
            if len(rows) > 1:
                a, b = sorted(
                    draw(st.lists(st.sampled_from(rows), min_size=2, max_size=2)), key=lambda m: m.start()
                )
                if kind == "swap" and a.start() != b.start():
                    xml = (
                        xml[: a.start()] + b.group(0) + xml[a.end() : b.start()] + a.group(0) + xml[b.end() :]
                    )
                else:
                    xml = xml[: a.start()] + xml[a.end() :]
    parts[name] = xml.encode("utf-8")
    return _zip(parts)


@st.composite
def xlsx_bytes(draw: st.DrawFn) -> bytes:
    """Byte mutations of one XML part (re-zipped), or of the zip itself."""
    if draw(st.booleans()):
        parts = dict(XLSX_PARTS)
        name = draw(st.sampled_from(XML_PARTS))
        parts[name] = draw(byte_mutation(parts[name]))
        return _zip(parts)
    return draw(byte_mutation(MINI_XLSX))


@FUZZ
@given(data=xlsx_structure())
def test_xlsx_snapshot_structure(data: bytes) -> None:
    assert run_file(".xlsx", data) in (0, 2)


@FUZZ
@given(data=xlsx_bytes())
def test_xlsx_snapshot_bytes(data: bytes) -> None:
    assert run_file(".xlsx", data) in (0, 2)


# ------------------------------------------------------------------------------------------------
# Rule pack YAML
# ------------------------------------------------------------------------------------------------

YAML_HOSTILE = st.sampled_from(
    [
        "&a [*a]",
        "!!python/object:os.system ls",
        "{a: 1, a: 2}",
        "[" * 2000 + "]" * 2000,
        "1e999",
        ".nan",
        "-.inf",
        "~",
        "2025-02-30",
        "'" + "x" * 100_000 + "'",
        "*undefined",
        "? [a, b]\n: c",
    ]
)


@st.composite
def pack_mutation(draw: st.DrawFn) -> bytes:
    """The default pack with values replaced (structurally, re-dumped), or a hostile YAML line spliced in."""
    if draw(st.booleans()):
        return draw(byte_mutation(PACK_BYTES))
    if draw(st.booleans()):
        lines = PACK_BYTES.decode("utf-8").splitlines()
        at = draw(st.integers(0, len(lines) - 1))
        indent = re.match(r"\s*", lines[at])
        prefix = indent.group(0) if indent else ""
        key = draw(st.sampled_from(["", "rate: ", "tag: ", "zz: ", "- "]))
        lines[at] = prefix + key + draw(YAML_HOSTILE)
        return "\n".join(lines).encode("utf-8")
    doc = draw(structural_mutation(yaml.safe_load(PACK_BYTES)))
    return deep_json(doc).encode("utf-8")  # JSON is YAML


@FUZZ
@given(data=pack_mutation())
def test_pack_yaml(data: bytes) -> None:
    assert run_file(".yaml", data, "rules", "show") in (0, 2)


CHILD_BYTES = next(f for f in builtin_pack_files() if f.parts[-3] == "cq-part2-cement").read_bytes()
EXTENDS_HOSTILE = st.sampled_from(
    [
        "input.yaml",  # the file itself: a cycle
        "./input.yaml",
        "cq-part9@1",
        "cq-part1@nope",
        "cq-part2-cement@2026-provisional",  # a valid grandchild
        "cq-part1",
        "''",
        "~",
        "[cq-part1]",
        "{a: 1}",
        "/dev/zero",
        "/",
        "../../../../../../etc/passwd",
        "no-such.yaml",
        "'" + "x" * 5000 + "'",
    ]
)


@st.composite
def child_mutation(draw: st.DrawFn) -> bytes:
    """The cement pack (which extends cq-part1) with a hostile parent reference, or its tables mutated."""
    text = CHILD_BYTES.decode("utf-8")
    if draw(st.booleans()):
        return re.sub(r"(?m)^extends: .*$", "extends: " + draw(EXTENDS_HOSTILE), text).encode("utf-8")
    doc = draw(structural_mutation(yaml.safe_load(CHILD_BYTES)))
    return deep_json(doc).encode("utf-8")


@FUZZ
@given(data=child_mutation())
def test_pack_extends_yaml(data: bytes) -> None:
    assert run_file(".yaml", data, "rules", "show") in (0, 2)
