"""The plant snapshot (contract v1, ``carbonmeter.snapshot/1``) as typed, immutable values.

A snapshot is everything the engine needs to judge one plant on one date: the boundary (source streams),
the monitoring plan (measuring points), the instruments (the Table B.1 register), their
verification/calibration history, the people and the management documents.  The models are strict on
purpose: an unknown key is an error (typos are caught), except under ``extra`` on any object, where a plant
keeps whatever else it wants to carry along.

Fields beyond contract §2 are additive (the contract changes only by adding fields) and optional.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA = "carbonmeter.snapshot/1"

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

#: Stream kinds whose points fall in the Table A.1 row for purchased/exported electricity and heat.
INDIRECT_KINDS: frozenset[str] = frozenset(
    {"purchased_electricity", "purchased_heat", "exported_electricity", "exported_heat"}
)


class Record(BaseModel):
    """Base of every snapshot object: frozen, unknown keys refused, ``extra`` kept verbatim."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    extra: dict[str, Any] = Field(default_factory=dict)


class Organization(Record):
    name: str = Field(min_length=1)
    credit_code: str = ""
    industry: str = ""
    key_emission_unit: bool = True
    region: str = ""


class SourceStream(Record):
    id: str = Field(min_length=1)
    name: str = ""
    kind: StreamKind
    method: Method
    emission_mode: EmissionMode = "organized"
    annual_emissions_t: float = Field(ge=0, allow_inf_nan=False)


class MeasuringPoint(Record):
    id: str = Field(min_length=1)
    stream: str = Field(min_length=1)
    role: Role
    parameter: str = Field(min_length=1)
    determination: Determination = "measured"
    purpose: str | None = None
    trade_settlement: bool = False
    name: str = ""
    #: Typical operating value of the measured quantity, in the unit the pack's band uses (e.g. flue-gas
    #: velocity in m/s).  Selects the band of a banded accuracy requirement; absent → the strictest band.
    operating_value: float | None = Field(default=None, allow_inf_nan=False)


class Component(Record):
    type: str = Field(min_length=1)
    accuracy_class: str | None = None
    mpe_percent: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class Instrument(Record):
    id: str = Field(min_length=1)
    name: str = ""
    type: str = ""
    model: str = ""
    serial_no: str = ""
    asset_no: str = ""
    manufacturer: str = ""
    measuring_range: str = ""
    location: str = ""
    accuracy_class: str | None = None
    mpe_percent: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    #: Absolute MPE (e.g. ±3 for a thermometer in °C), in ``mpe_abs_unit``.
    mpe_abs: float | None = Field(default=None, gt=0, allow_inf_nan=False)
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
    interval_months: int | None = Field(default=None, gt=0)


class Calibration(Record):
    instrument: str = Field(min_length=1)
    kind: CalibrationKind
    date: dt.date
    valid_until: dt.date | None = None
    result: Result
    certificate_no: str = ""
    agency: str = ""


class Certificate(Record):
    name: str = Field(min_length=1)
    valid_until: dt.date | None = None


class Person(Record):
    name: str = Field(min_length=1)
    role: str = ""
    #: 碳计量负责人: the person (6.2) answerable for carbon metering.
    responsible: bool = False
    certificates: tuple[Certificate, ...] = ()


class Document(Record):
    kind: str = Field(min_length=1)
    title: str = ""
    approved: dt.date | None = None


class Snapshot(Record):
    """One plant, as of one date. Lists keep input order; ids are unique within their list."""

    schema_: Literal["carbonmeter.snapshot/1"] = Field(alias="schema", default="carbonmeter.snapshot/1")
    organization: Organization
    reporting_year: int = Field(ge=2000, le=2100)
    as_of: dt.date
    source_streams: tuple[SourceStream, ...] = ()
    measuring_points: tuple[MeasuringPoint, ...] = ()
    instruments: tuple[Instrument, ...] = ()
    calibrations: tuple[Calibration, ...] = ()
    personnel: tuple[Person, ...] = ()
    documents: tuple[Document, ...] = ()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
