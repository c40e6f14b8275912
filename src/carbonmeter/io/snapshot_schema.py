"""Decoding a snapshot fast, and explaining an invalid one completely.

Valid input — the everyday case — is decoded by msgspec straight into the snapshot types.  msgspec stops at
the first error, so when it refuses a document the same document is checked against the JSON Schema that
msgspec generates from those same types, which lists *every* problem with its JSON pointer.  One definition
of the snapshot (``core/snapshot.py``), two uses: speed for the good file, a full list for the bad one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from typing import Any

import msgspec

from carbonmeter.core.integrity import check_integrity
from carbonmeter.core.snapshot import (
    Calibration,
    Instrument,
    MeasuringPoint,
    Organization,
    Record,
    Snapshot,
    SourceStream,
)
from carbonmeter.io.problems import SnapshotError, pointer

_DECODER = msgspec.json.Decoder(Snapshot)
_BOUNDS = {
    "minimum": ("≥", "不能小于"),
    "exclusiveMinimum": (">", "须大于"),
    "maximum": ("≤", "不能大于"),
    "exclusiveMaximum": ("<", "须小于"),
}
_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


@cache
def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``carbonmeter.snapshot/1``, with unknown keys refused on every object."""
    schema: dict[str, Any] = msgspec.json.schema(Snapshot)
    for definition in schema["$defs"].values():
        if "properties" in definition:
            definition["additionalProperties"] = False
    return schema


def _reason(error: Any) -> list[tuple[list[Any], str]]:
    """(path, reason) pairs for one jsonschema error, pointing at the key concerned where it can."""
    path = list(error.absolute_path)
    kind = error.validator
    if kind == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        unknown = [k for k in error.instance if k not in allowed]
        text = 'unknown key (not in carbonmeter.snapshot/1; keep your own data under "extra") / 未知字段'
        return [([*path, k], text) for k in unknown]
    if kind == "required":
        key = re.findall(r"'([^']+)'", error.message)
        return [([*path, *key[:1]], "required field is missing / 缺少必填项")]
    if kind == "anyOf" and error.context:
        specific = [e for e in error.context if e.validator != "type" or "null" not in str(e.validator_value)]
        if specific:
            return _reason(min(specific, key=lambda e: len(list(e.relative_schema_path))))
    if kind == "enum":
        allowed_values = ", ".join(str(v) for v in error.validator_value)
        return [(path, f"{error.instance!r} is not one of: {allowed_values}")]
    if kind == "format" and error.validator_value == "date":
        return [(path, f"{error.instance!r} is not a valid date (YYYY-MM-DD) / 日期无效")]
    if kind in _BOUNDS:
        sign, zh = _BOUNDS[kind]
        bound = error.validator_value
        return [(path, f"must be {sign} {bound} (got {error.instance!r}) / {zh} {bound}")]
    if kind == "minLength":
        return [(path, "must not be empty / 不能为空")]
    return [(path, error.message)]


def schema_problems(doc: Any) -> list[tuple[str, str]]:
    """Every schema problem of a JSON-like document, as ``(JSON pointer, reason)``, in document order."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(json_schema(), format_checker=jsonschema.FormatChecker())
    found = [pair for error in validator.iter_errors(doc) for pair in _reason(error)]
    found.sort(key=lambda p: [(0, x) if isinstance(x, int) else (1, str(x)) for x in p[0]])
    return [(pointer(path), reason) for path, reason in found]


def _msgspec_pointer(message: str) -> tuple[str, str]:
    """Fallback: msgspec's own message (``… - at `$.instruments[3].status` ``) as pointer and reason."""
    reason, _, where = message.partition(" - at `")
    parts = [a or int(b) for a, b in _PATH_PART.findall(where.rstrip("`").removeprefix("$"))]
    return pointer(parts), reason


#: The lists the integrity check reads, with their types, for checking the valid part of an invalid document.
_LISTS: dict[str, type[Record]] = {
    "source_streams": SourceStream,
    "measuring_points": MeasuringPoint,
    "instruments": Instrument,
    "calibrations": Calibration,
}


def _lookup(doc: Any, path: list[str]) -> Any:
    for part in path:
        if isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        elif isinstance(doc, dict):
            doc = doc.get(part)
        else:
            return None
    return doc


def partial_integrity(doc: Any) -> list[tuple[str, str]]:
    """Integrity problems among the objects that are valid on their own, located in ``doc``.

    So a plant sees a bad term and a dangling reference in one pass.  A reference to an object that is there
    but itself invalid is not reported: it resolves once that object's own problem, already listed, is fixed.
    """
    if not isinstance(doc, dict):
        return []
    lists: dict[str, list[Any]] = {}
    kept: dict[str, list[int]] = {}
    left_out: set[str] = set()
    for name, record_type in _LISTS.items():
        lists[name], kept[name] = [], []
        items = doc.get(name)
        for index, obj in enumerate(items if isinstance(items, list) else []):
            try:
                lists[name].append(msgspec.convert(obj, record_type))
                kept[name].append(index)
            except msgspec.ValidationError:
                if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                    left_out.add(obj["id"])
    stand_in = msgspec.structs.replace(
        Snapshot(organization=Organization(name="-"), reporting_year=2000, as_of=dt.date(2000, 1, 1)),
        **{k: tuple(v) for k, v in lists.items()},
    )
    out = []
    for problem in check_integrity(stand_in):
        _, name, position, *rest = problem.pointer.split("/")
        path = [name, str(kept[name][int(position)]), *rest]
        value = _lookup(doc, path)
        if rest == ["id"] or not isinstance(value, str) or value not in left_out:
            out.append(("/" + "/".join(path), problem.message))
    return out


def _explain(doc: Any, exc: msgspec.ValidationError) -> list[tuple[str, str]]:
    return (schema_problems(doc) or [_msgspec_pointer(str(exc))]) + partial_integrity(doc)


def _checked(snapshot: Snapshot, source: str) -> Snapshot:
    problems = check_integrity(snapshot)
    if problems:
        raise SnapshotError(f"{source}: {p.pointer}: {p.message}" for p in problems)
    return snapshot


def decode_json(data: bytes, source: str) -> Snapshot:
    """A snapshot from JSON bytes; :class:`SnapshotError` naming ``source`` and a pointer per problem."""
    try:
        snapshot = _DECODER.decode(data)
    except msgspec.ValidationError as exc:
        doc = json.loads(data)
        raise SnapshotError(f"{source}: {p or '/'}: {r}" for p, r in _explain(doc, exc)) from exc
    except msgspec.DecodeError as exc:
        try:
            json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as jexc:
            raise SnapshotError([f"{source}: not valid JSON: {jexc}"]) from exc
        raise SnapshotError([f"{source}: not valid JSON: {exc}"]) from exc
    return _checked(snapshot, source)


def convert(doc: dict[str, Any]) -> Snapshot:
    """A snapshot from a JSON-like dict (dates may be ``date`` objects); raises :class:`SchemaProblems`."""
    try:
        return msgspec.convert(doc, Snapshot)
    except msgspec.ValidationError as exc:
        raise SchemaProblems(_explain(msgspec.to_builtins(doc), exc)) from exc


class SchemaProblems(Exception):
    """A document does not fit the snapshot schema; ``problems`` holds ``(pointer, reason)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {r}" for p, r in problems))
        self.problems = problems


def to_jsonable(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as a JSON document; defaults left out, so a file written and read back is unchanged."""
    doc: dict[str, Any] = msgspec.to_builtins(snapshot)
    doc["schema"] = snapshot.schema_
    return doc
