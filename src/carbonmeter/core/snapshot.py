"""The plant snapshot (contract v1, ``carbonmeter.snapshot/1``) as typed, immutable values.

A snapshot is everything the engine needs to judge one plant on one date: the boundary (source streams),
the monitoring plan (measuring points), the instruments (the Table B.1 register), their
verification/calibration history, the people and the management documents.  The types are strict on
purpose: an unknown key is an error (typos are caught), except under ``extra`` on any object, where a plant
keeps whatever else it wants to carry along.

They are msgspec structs: a 20,000-instrument plant decodes in about a tenth of a second into a third of the
memory a dict-per-object model takes, which is what keeps the whole assessment under a second.  The JSON
Schema generated from these same types lists every problem of an invalid file (``io/snapshot_schema.py``),
so there is one definition of the snapshot.

Fields beyond contract §2 are additive (the contract changes only by adding fields) and optional.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct, field

SCHEMA = "carbonmeter.snapshot/1"

Id = Annotated[str, Meta(min_length=1)]
NonNegative = Annotated[float, Meta(ge=0)]
Positive = Annotated[float, Meta(gt=0)]

StreamKind = Literal[
    "fuel_combustion",
    "process",
    "purchased_electricity",
    "purchased_heat",
    "exported_electricity",
    "exported_heat",
    "carbon_product",
    "other",
]
Method = Literal["calculation", "measurement"]
EmissionMode = Literal["organized", "unorganized"]
Role = Literal["activity_data", "emission_factor", "cems"]
Determination = Literal["measured", "default"]
Status = Literal["in_use", "standby", "stopped", "sealed", "scrapped"]
Ownership = Literal["own", "supplier", "external_lab"]
CalibrationKind = Literal["verification", "calibration"]
Result = Literal["pass", "fail"]
FacilityLevel = Literal["enterprise", "key_facility"]
Fraction = Annotated[float, Meta(ge=0, le=1)]

#: Stream kinds whose points fall in the Table A.1 row for purchased/exported electricity and heat.
INDIRECT_KINDS: frozenset[str] = frozenset(
    {"purchased_electricity", "purchased_heat", "exported_electricity", "exported_heat"}
)


class Record(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """Base of every snapshot object: immutable, unknown keys refused, ``extra`` kept verbatim."""

    extra: dict[str, Any] = {}


class Organization(Record, frozen=True, kw_only=True):
    name: Id
    credit_code: str = ""
    industry: str = ""
    key_emission_unit: bool = True
    region: str = ""


class Facility(Record, frozen=True, kw_only=True):
    """A production facility (4.1): the enterprise as a whole, or a key production facility."""

    id: Id
    name: str = ""
    level: FacilityLevel = "key_facility"


class SourceStream(Record, frozen=True, kw_only=True):
    id: Id
    kind: StreamKind
    method: Method
    #: Declared emissions.  Optional (v1.1) where the stream's ``formula`` can be evaluated on its points.
    annual_emissions_t: NonNegative | None = None
    name: str = ""
    emission_mode: EmissionMode = "organized"
    #: v1.1: the facility (4.1) the stream belongs to, and the id of the pack's formula that computes it.
    facility: str | None = None
    formula: str | None = None


class MeasuringPoint(Record, frozen=True, kw_only=True):
    id: Id
    stream: Id
    role: Role
    parameter: Id
    determination: Determination = "measured"
    purpose: str | None = None
    trade_settlement: bool = False
    name: str = ""
    #: Typical operating value of the measured quantity, in the unit the pack's band uses (e.g. flue-gas
    #: velocity in m/s).  Selects the band of a banded accuracy requirement; absent → every band applies.
    operating_value: float | None = None
    #: v1.1: the annual quantity the point determined (an activity amount's annual total, a factor's
    #: consumption-weighted annual mean) in ``unit`` (any unit pint reads: "t", "GJ/t", "10^4 Nm^3" …).
    value: NonNegative | None = None
    unit: str = ""
    #: Relative standard uncertainty stated by the value's source (lab report, supplier certificate).
    u_rel: NonNegative | None = None
    #: Key of the pack's ``factors`` table: the default value, unit and u_rel of a default point.
    factor: str | None = None
    #: Where the value was computed from metering data: the share of the year's intervals with valid data,
    #: and the share of the value that rests on substituted data (both 0–1).  Shown beside the value.
    availability: Fraction | None = None
    substituted_share: Fraction | None = None


class Component(Record, frozen=True, kw_only=True):
    type: Id
    accuracy_class: str | None = None
    mpe_percent: Positive | None = None


class Instrument(Record, frozen=True, kw_only=True):
    id: Id
    name: str = ""
    type: str = ""
    model: str = ""
    serial_no: str = ""
    asset_no: str = ""
    manufacturer: str = ""
    measuring_range: str = ""
    location: str = ""
    accuracy_class: str | None = None
    mpe_percent: Positive | None = None
    #: Absolute MPE (e.g. ±3 for a thermometer in °C), in ``mpe_abs_unit``.
    mpe_abs: Positive | None = None
    mpe_abs_unit: str = ""
    components: tuple[Component, ...] = ()
    status: Status = "in_use"
    points: tuple[str, ...] = ()
    portable: bool = False
    smart: bool = False
    seal_intact: bool | None = None
    ownership: Ownership = "own"
    #: 溯源依据 (the JJG/JJF the instrument is verified or calibrated by) and its interval in months.
    traceability_basis: str = ""
    interval_months: Annotated[int, Meta(gt=0)] | None = None
    #: v1.1: first day in service (period traceability, 6.3.6–6.3.7).
    in_service_from: dt.date | None = None


class Calibration(Record, frozen=True, kw_only=True):
    instrument: Id
    kind: CalibrationKind
    date: dt.date
    result: Result
    valid_until: dt.date | None = None
    certificate_no: str = ""
    agency: str = ""
    #: 限用范围: the range a pass confirms the instrument for, when restricted ("" when not).
    restricted_range: str = ""
    #: v1.1: the certificate's expanded uncertainty U, % of the measured value, and its coverage factor k
    #: (``None`` → 2).
    expanded_uncertainty_percent: Positive | None = None
    coverage_factor: Positive | None = None


class Certificate(Record, frozen=True, kw_only=True):
    name: Id
    valid_until: dt.date | None = None


class Person(Record, frozen=True, kw_only=True):
    name: Id
    role: str = ""
    #: 碳计量负责人: the person (6.2) answerable for carbon metering.
    responsible: bool = False
    certificates: tuple[Certificate, ...] = ()


class Document(Record, frozen=True, kw_only=True):
    kind: Id
    title: str = ""
    approved: dt.date | None = None


class Snapshot(Record, frozen=True, kw_only=True):
    """One plant, as of one date. Lists keep input order; ids are unique within their list."""

    organization: Organization
    reporting_year: Annotated[int, Meta(ge=2000, le=2100)]
    as_of: dt.date
    schema_: Literal["carbonmeter.snapshot/1"] = field(name="schema", default="carbonmeter.snapshot/1")
    source_streams: tuple[SourceStream, ...] = ()
    measuring_points: tuple[MeasuringPoint, ...] = ()
    instruments: tuple[Instrument, ...] = ()
    calibrations: tuple[Calibration, ...] = ()
    personnel: tuple[Person, ...] = ()
    documents: tuple[Document, ...] = ()
    facilities: tuple[Facility, ...] = ()
