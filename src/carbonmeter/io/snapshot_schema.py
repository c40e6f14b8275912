"""Decoding a snapshot fast, and explaining an invalid one completely (``carbonmeter.explain``).

Valid input — the everyday case — is decoded by msgspec straight into the snapshot types.  An invalid one gets
every schema problem with its JSON pointer, and the integrity problems of the objects that are valid on their
own, in one pass.
"""

from __future__ import annotations

import datetime as dt
import json
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
from carbonmeter.explain import explain
from carbonmeter.io.problems import SnapshotError, pointer

_DECODER = msgspec.json.Decoder(Snapshot)


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
    found = [(pointer(path), reason) for path, reason in explain(Snapshot, doc, exc)]
    return found + partial_integrity(doc)


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
        raise SchemaProblems(_explain(doc, exc)) from exc


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
