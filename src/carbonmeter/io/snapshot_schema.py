"""Decoding a snapshot fast, and explaining an invalid one completely (``carbonmeter.explain``).

Valid input — the everyday case — is decoded by msgspec straight into the snapshot types.  An invalid one gets
every schema problem with its JSON pointer, and the integrity problems of the objects that are valid on their
own, in one pass.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from collections.abc import Iterator
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
from carbonmeter.io.ids import normalize_ids
from carbonmeter.io.problems import Located, Reason, SnapshotError, located, pointer, quote
from carbonmeter.io.terms import normalize_terms

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
    stand_in = normalize_ids(
        msgspec.structs.replace(
            Snapshot(organization=Organization(name="-"), reporting_year=2000, as_of=dt.date(2000, 1, 1)),
            **{k: tuple(v) for k, v in lists.items()},
        )
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


def _finite(value: float | None) -> bool:
    return value is None or math.isfinite(value)


def value_problems(snapshot: Snapshot) -> Iterator[tuple[str, Reason]]:
    """Values the schema lets through but nothing downstream can use, by JSON pointer.

    Numbers no report can print: a value that is not finite (``1e400`` reads as infinity), and annual
    emissions whose sum overflows (two streams of 1.7e308), located at the stream where the total breaks;
    without this the assessment says ``null`` or ``inf`` for the plant's total instead of refusing the file.
    And ids that are blank once normalised (only spaces: :mod:`carbonmeter.io.ids`).
    """
    yield from _blank_ids(snapshot)
    total = 0.0
    for i, stream in enumerate(snapshot.source_streams):
        if stream.annual_emissions_t is None:
            continue
        if not _finite(stream.annual_emissions_t):
            yield f"/source_streams/{i}/annual_emissions_t", Reason("IMP-16")
            continue
        total += stream.annual_emissions_t
        if not math.isfinite(total):
            yield f"/source_streams/{i}/annual_emissions_t", Reason("IMP-17")
            total = 0.0
    for i, point in enumerate(snapshot.measuring_points):
        for key in ("operating_value", "value", "u_rel"):
            if not _finite(getattr(point, key)):
                yield f"/measuring_points/{i}/{key}", Reason("IMP-16")
    for i, instrument in enumerate(snapshot.instruments):
        for key in ("mpe_percent", "mpe_abs"):
            if not _finite(getattr(instrument, key)):
                yield f"/instruments/{i}/{key}", Reason("IMP-16")
        for j, component in enumerate(instrument.components):
            if not _finite(component.mpe_percent):
                yield f"/instruments/{i}/components/{j}/mpe_percent", Reason("IMP-16")
    for i, record in enumerate(snapshot.calibrations):
        for key in ("expanded_uncertainty_percent", "coverage_factor"):
            if not _finite(getattr(record, key)):
                yield f"/calibrations/{i}/{key}", Reason("IMP-16")


def _blank_ids(snapshot: Snapshot) -> Iterator[tuple[str, Reason]]:
    lists = {
        "source_streams": snapshot.source_streams,
        "measuring_points": snapshot.measuring_points,
        "instruments": snapshot.instruments,
        "personnel": snapshot.personnel,
    }
    for name, items in lists.items():
        for i, item in enumerate(items):
            key = "name" if name == "personnel" else "id"
            if not getattr(item, key):
                yield f"/{name}/{i}/{key}", Reason("IMP-18")


def _checked(snapshot: Snapshot, source: str) -> Snapshot:
    problems: list[Located] = [Located(source, p.pointer, p.message) for p in check_integrity(snapshot)]
    problems += [Located(source, at, reason) for at, reason in value_problems(snapshot)]
    if problems:
        raise SnapshotError(problems)
    return snapshot


def _not_json(data: bytes, source: str, exc: Exception) -> SnapshotError:
    """Why ``data`` is not JSON: invalid UTF-8 (at which byte), or the parser's own words, cut short."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as uexc:
        return SnapshotError([located(source, "IMP-03", offset=str(uexc.start))])
    try:
        json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as jexc:
        return SnapshotError([located(source, "IMP-01", detail=quote(str(jexc)))])
    except RecursionError:
        pass
    return SnapshotError([located(source, "IMP-01", detail=quote(str(exc)))])


def _document(data: bytes, source: str, exc: msgspec.ValidationError) -> Any:
    """The untyped document of JSON the typed decoder refused, to explain every problem in it.

    The typed decoder stops at the first wrong value, so the rest may still not be JSON at all.  msgspec's
    untyped parser reads what it reads; the standard library's also takes numbers out of range (``1e999``,
    refused then at their pointer); what neither reads is not JSON.
    """
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as dexc:
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _not_json(data, source, dexc) from exc


def decode_json(data: bytes, source: str) -> Snapshot:
    """A snapshot from JSON bytes; :class:`SnapshotError` naming ``source`` and a pointer per problem.

    Hostile input is refused, not crashed on: nesting deeper than the interpreter's recursion limit (in
    ``extra``, under an unknown key, at the top), bytes that are not UTF-8, bytes that are not JSON.
    """
    try:
        try:
            snapshot = _DECODER.decode(data)
        except msgspec.ValidationError as exc:
            doc = _document(data, source, exc)
            found = _explain(doc, exc)
            raise SnapshotError(Located(source, p or "/", r) for p, r in found) from exc
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise _not_json(data, source, exc) from exc
    except RecursionError as exc:
        raise SnapshotError([located(source, "IMP-02", limit=str(sys.getrecursionlimit()))]) from exc
    return _checked(normalize_terms(normalize_ids(snapshot)), source)


def convert(doc: dict[str, Any]) -> Snapshot:
    """A snapshot from a JSON-like dict (dates may be ``date`` objects); raises :class:`SchemaProblems`.

    Ids are taken as they are: the web builds its snapshot from registry rows with this, and a page must
    find the row a finding names.  The file readers normalise ids themselves (:mod:`carbonmeter.io.ids`).
    """
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
