"""Small builders for test snapshots: a valid plant in a few lines, every field overridable."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from carbonmeter.core.snapshot import (
    Calibration,
    Certificate,
    Component,
    Document,
    Instrument,
    MeasuringPoint,
    Organization,
    Person,
    Snapshot,
    SourceStream,
)
from carbonmeter.rules.loader import load_pack

AS_OF = date(2026, 1, 15)
ALL_DOCS = tuple(d.kind for d in load_pack("cq-part1").required_documents)


def stream(id: str = "S1", t: float = 10_000.0, **kw: Any) -> SourceStream:
    return SourceStream(
        id=id,
        name=kw.pop("name", f"stream {id}"),
        kind=kw.pop("kind", "fuel_combustion"),
        method=kw.pop("method", "calculation"),
        annual_emissions_t=t,
        **kw,
    )


def point(id: str = "P1", stream: str = "S1", **kw: Any) -> MeasuringPoint:
    return MeasuringPoint(
        id=id,
        stream=stream,
        role=kw.pop("role", "activity_data"),
        parameter=kw.pop("parameter", "consumption"),
        purpose=kw.pop("purpose", "weighing_dynamic"),
        **kw,
    )


def instrument(id: str = "I1", points: tuple[str, ...] = ("P1",), **kw: Any) -> Instrument:
    full = {
        "name": f"instrument {id}",
        "model": "M",
        "serial_no": f"SN-{id}",
        "asset_no": f"A-{id}",
        "manufacturer": "Maker",
        "measuring_range": "0-100",
        "location": "site",
        "accuracy_class": "0.5",
    }
    if "components" in kw:  # written as dicts in tests, for brevity
        kw["components"] = tuple(
            msgspec.convert(c, Component) if isinstance(c, dict) else c for c in kw["components"]
        )
    return Instrument(id=id, points=points, **(full | kw))


def passed(
    instrument: str = "I1", on: date = date(2025, 3, 1), until: date = date(2026, 2, 28), **kw: Any
) -> Calibration:
    return Calibration(
        instrument=instrument,
        kind=kw.pop("kind", "verification"),
        date=on,
        valid_until=until,
        result="pass",
        certificate_no=kw.pop("certificate_no", f"C-{instrument}-{on}"),
        **kw,
    )


def failed(instrument: str = "I1", on: date = date(2025, 11, 1), **kw: Any) -> Calibration:
    return Calibration(
        instrument=instrument,
        kind=kw.pop("kind", "verification"),
        date=on,
        result="fail",
        certificate_no=kw.pop("certificate_no", f"F-{instrument}-{on}"),
        **kw,
    )


def responsible_person(valid_until: date = date(2027, 1, 1)) -> Person:
    return Person(
        name="张伟",
        role="碳计量负责人",
        responsible=True,
        certificates=(Certificate(name="计量管理证书", valid_until=valid_until),),
    )


def docs(kinds: tuple[str, ...] = ALL_DOCS, approved: date | None = date(2025, 1, 1)) -> tuple[Document, ...]:
    return tuple(Document(kind=k, title=k, approved=approved) for k in kinds)


def snapshot(
    streams: tuple[SourceStream, ...] = (),
    points: tuple[MeasuringPoint, ...] = (),
    instruments: tuple[Instrument, ...] = (),
    calibrations: tuple[Calibration, ...] = (),
    *,
    key_emission_unit: bool = True,
    personnel: tuple[Person, ...] | None = None,
    documents: tuple[Document, ...] | None = None,
    as_of: date = AS_OF,
) -> Snapshot:
    """A snapshot that is clean apart from what the caller puts in (people and documents complete)."""
    return Snapshot(
        organization=Organization(name="测试水泥有限公司", key_emission_unit=key_emission_unit),
        reporting_year=2025,
        as_of=as_of,
        source_streams=streams,
        measuring_points=points,
        instruments=instruments,
        calibrations=calibrations,
        personnel=(responsible_person(),) if personnel is None else personnel,
        documents=docs() if documents is None else documents,
    )


def portable_kit() -> tuple[tuple[Instrument, ...], tuple[Calibration, ...]]:
    """One traceable portable instrument (5.1.4), to add where a test wants a clean plant."""
    return (instrument("PORT", points=(), portable=True),), (passed("PORT"),)
