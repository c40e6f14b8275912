"""What goes over the wire: request and response bodies, typed so the OpenAPI document is the contract.

Enumerations are the contract's own ``Literal`` types (``carbonmeter.core.snapshot``), so the API can never
accept a status or a result the engine would not know.  The bounds say what the columns and the engine can
hold, so bad input is a 422 naming the field rather than an error deep in the database: ids fit a 64-bit
column, text fits its column and holds no NUL (PostgreSQL refuses it), numbers are finite and positive where
the snapshot requires it, dates lie in a plausible range (a mistyped year is refused, not stored).

Request bodies refuse unknown keys, as the snapshot does: a misspelt field is an error, not a silent no-op.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Strict,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from carbonmeter.core.classify import Category
from carbonmeter.core.snapshot import (
    CalibrationKind,
    Determination,
    EmissionMode,
    Method,
    Ownership,
    Result,
    Role,
    Status,
    StreamKind,
)
from carbonmeter.core.traceability import State
from carbonmeter.rules.schema import Row, Severity
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry import validity

#: The largest primary key a 64-bit integer column holds; a larger id is a 422, not a database overflow.
MAX_ID = 2**63 - 1
#: The dates the API accepts: wide enough for any real record, narrow enough to catch a mistyped year.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    return value


def _in_range(day: dt.date) -> dt.date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"date must lie between {FIRST_DAY} and {LAST_DAY}")
    return day


def _date_text(value: Any) -> Any:
    """A date arrives as ISO text (the schema says ``format: date``); pydantic's lax mode would also take
    a number as seconds since 1970, so ``"as_of": 0`` became 1970-01-01. Refused instead."""
    if isinstance(value, str) or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    raise ValueError("a date is written as text, YYYY-MM-DD")


#: Strict where the schema says integer, number or boolean: pydantic's lax mode takes ``"5"`` and ``5.0``
#: as an integer, ``"yes"`` and ``1`` as a boolean, ``true`` and ``"5"`` as a number. The body is JSON, so
#: a client sends the JSON type the document names or gets a 422 saying which field.
Id = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Day = Annotated[dt.date, BeforeValidator(_date_text), AfterValidator(_in_range)]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), AfterValidator(_no_nul)
]
Text20 = Annotated[str, StringConstraints(max_length=20), AfterValidator(_no_nul)]
Text50 = Annotated[str, StringConstraints(max_length=50), AfterValidator(_no_nul)]
Text100 = Annotated[str, StringConstraints(max_length=100), AfterValidator(_no_nul)]
Text200 = Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_nul)]
#: A search term for ``?q=``.
Search = Annotated[str, StringConstraints(max_length=100), AfterValidator(_no_nul)]
#: Why a change is made; simple-history keeps at most 100 characters of it.
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_no_nul)
]
Percent = Annotated[float, Strict(), Field(gt=0, le=100, allow_inf_nan=False)]
PositiveFinite = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
Months = Annotated[int, Strict(), Field(ge=1, le=1200)]


class ErrorOut(Schema):
    """Every error: ``detail`` is a message, or for 422 the list of problems with their location."""

    detail: str | list[dict[str, Any]]


# ---- organizations and the monitoring plan (read-only) ----------------------------------------------------


class OrganizationOut(Schema):
    id: int
    name: str
    credit_code: str
    industry: str
    region: str
    key_emission_unit: bool
    reporting_year: int
    pack: str = Field(description="rule pack id; empty = the installation's default")


class StreamOut(Schema):
    id: int
    organization: int
    code: str
    name: str
    kind: StreamKind
    method: Method
    emission_mode: EmissionMode
    annual_emissions_t: float | None = Field(
        description="declared emissions, t CO2e; may be null when formula is set (the engine computes them)"
    )
    facility: str | None = Field(description="code of the production facility (4.1) the stream belongs to")
    formula: str = Field(description="id of the rule pack's formula (contract §6.2); empty: none")

    @staticmethod
    def resolve_organization(obj: Any) -> int:
        return int(obj.organization_id)

    @staticmethod
    def resolve_facility(obj: Any) -> str | None:
        return obj.facility.code if obj.facility_id else None


class PointOut(Schema):
    id: int
    organization: int
    stream: int
    code: str
    name: str
    role: Role
    parameter: str
    determination: Determination
    purpose: str
    trade_settlement: bool
    operating_value: float | None
    value: float | None = Field(description="the annual quantity the point determined, in unit")
    unit: str = Field(description='unit of value, e.g. "t", "GJ/t", "MWh"')
    u_rel: float | None = Field(description="relative standard uncertainty stated by the value's source")
    factor: str = Field(description="key of the rule pack's factors table (a default value); empty: none")

    @staticmethod
    def resolve_organization(obj: Any) -> int:
        return int(obj.organization_id)

    @staticmethod
    def resolve_stream(obj: Any) -> int:
        return int(obj.stream_id)


# ---- instruments ------------------------------------------------------------------------------------------


class InstrumentOut(Schema):
    id: int
    organization: int
    code: str
    name: str
    type: str
    model: str
    serial_no: str
    asset_no: str
    manufacturer: str
    measuring_range: str
    location: str
    accuracy_class: str
    mpe_percent: float | None
    mpe_abs: float | None
    mpe_abs_unit: str
    status: Status
    portable: bool
    smart: bool
    seal_intact: bool | None
    ownership: Ownership
    traceability_basis: str
    interval_months: int | None
    in_service_from: dt.date | None = Field(description="投用日期: first day in service")
    points: list[int] = Field(description="ids of the measuring points the instrument serves")
    updated_at: dt.datetime
    state: State = Field(
        description="verification state today (the core's traceability rule, as every page shows it): "
        "valid 有效, due_soon 即将到期 (within the rule pack's verification_due_soon_days), expired 已过期, "
        "failed 复检不合格 (a failed record after the last pass), never 无合格记录"
    )
    valid_until: dt.date | None = Field(
        description="end of the covering pass (valid, due_soon) or of the last pass (expired, failed)"
    )

    @staticmethod
    def resolve_organization(obj: Any) -> int:
        return int(obj.organization_id)

    @staticmethod
    def resolve_state(obj: Any) -> str:
        return str(_standing(obj)[0])

    @staticmethod
    def resolve_valid_until(obj: Any) -> dt.date | None:
        until: dt.date | None = _standing(obj)[1]
        return until

    @staticmethod
    def resolve_points(obj: Any) -> list[int]:
        # ``points`` is prefetched by the routes; archived points are no longer part of the plan.
        return sorted(p.pk for p in obj.points.all() if not p.archived)


def _standing(obj: Any) -> tuple[str, dt.date | None]:
    """The state of an instrument: annotated by the route (``validity.with_state``, one query for a
    page), or, for one instrument just read or written, its records through the same core rule."""
    if hasattr(obj, "state") and hasattr(obj, "valid_until"):
        return obj.state, obj.valid_until
    records = list(Calibration.objects.filter(instrument=obj, archived=False))
    s = validity.standing(records, timezone.localdate(), validity.due_soon_days(obj.organization))
    obj.state, obj.valid_until = s.state, s.valid_until
    return s.state, s.valid_until


class _InstrumentFields(Schema):
    """The register fields (Table B.1) a client may set; shared by create and change."""

    model_config = ConfigDict(extra="forbid")

    name: Text200 = ""
    type: Text50 = ""
    model: Text100 = ""
    serial_no: Text100 = ""
    asset_no: Text100 = ""
    manufacturer: Text200 = ""
    measuring_range: Text100 = ""
    location: Text200 = ""
    accuracy_class: Text20 = Field("", description='as on the valid certificate: "0.2S", "0.5", "III" …')
    mpe_percent: Percent | None = None
    mpe_abs: PositiveFinite | None = None
    mpe_abs_unit: Text20 = ""
    status: Status = "in_use"
    portable: StrictBool = False
    smart: StrictBool = False
    seal_intact: StrictBool | None = None
    ownership: Ownership = "own"
    traceability_basis: Text100 = ""
    interval_months: Months | None = None
    in_service_from: Day | None = Field(
        None, description="投用日期: first day in service (period traceability)"
    )
    points: list[Id] = Field(
        default_factory=list, max_length=500, description="ids of measuring points of the same organization"
    )


class InstrumentIn(_InstrumentFields):
    organization: Id
    code: Code = Field(description="the instrument's id within the organization (unique there)")


def _drop_defaults(schema: dict[str, Any]) -> None:
    """A PATCH body has no defaults: a field left out is left unchanged, so the document shows none."""
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


class InstrumentPatch(_InstrumentFields):
    """Only the fields sent change; ``reason`` is required and goes into the instrument's history."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_drop_defaults)

    reason: Reason = Field(description="why the change is made (kept in the history, at most 100 characters)")

    def changes(self) -> dict[str, Any]:
        """The register fields the client sent (without ``reason`` and ``points``)."""
        return self.model_dump(exclude_unset=True, exclude={"reason", "points"})


# ---- calibrations -----------------------------------------------------------------------------------------


class CalibrationOut(Schema):
    id: int
    instrument: int
    kind: CalibrationKind
    date: dt.date
    valid_until: dt.date | None
    result: Result
    certificate_no: str
    agency: str
    restricted_range: str = Field(description="限用范围: the range a pass confirms it for; blank: none")
    expanded_uncertainty_percent: float | None = Field(
        description="the certificate's expanded uncertainty U, % of the measured value"
    )
    coverage_factor: float | None = Field(description="k of U; null: 2")

    @staticmethod
    def resolve_instrument(obj: Any) -> int:
        return int(obj.instrument_id)


class CalibrationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    instrument: Id
    kind: CalibrationKind
    date: Day
    result: Result
    valid_until: Day | None = Field(
        None,
        description=(
            "有效期至, not before date. A pass without it is valid for the instrument's verification "
            "interval (interval_months) from date; a pass for an instrument without an interval "
            "needs it (422)."
        ),
    )
    certificate_no: Text100 = ""
    agency: Text200 = ""
    restricted_range: Text200 = Field(
        "",
        description=(
            "限用范围: when a pass confirms the instrument for a restricted range only (e.g. 0-50 t/h); "
            "its label then reads 准用 (restricted use)"
        ),
    )
    expanded_uncertainty_percent: PositiveFinite | None = Field(
        None, description="扩展不确定度: the certificate's expanded uncertainty U, % of the measured value"
    )
    coverage_factor: PositiveFinite | None = Field(None, description="包含因子: k of U (null: 2)")

    @field_validator("valid_until")
    @classmethod
    def _validity(cls, valid_until: dt.date | None, info: ValidationInfo) -> dt.date | None:
        """A record is not valid before it was made (a missing date of a pass is the service's to fill)."""
        day = info.data.get("date")
        if valid_until is not None and day is not None and valid_until < day:
            raise ValueError("valid_until (有效期至) may not be before date (检定/校准日期)")
        return valid_until


# ---- assessments ------------------------------------------------------------------------------------------


class AssessmentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    organization: Id
    as_of: Day = Field(description="the date validity is judged at")


class AssessmentOut(Schema):
    """A stored run, without its document (``GET /assessments/{id}`` returns the document)."""

    id: int
    organization: int
    as_of: dt.date
    pack_id: str
    pack_version: str
    pack_sha256: str
    conforms: bool
    nonconformities: int
    observations: int
    created_at: dt.datetime

    @staticmethod
    def resolve_organization(obj: Any) -> int:
        return int(obj.organization_id)


class _Open(BaseModel):
    """Parts of the assessment document: fields beyond contract §4 are additive and passed through.

    A plain pydantic model, not a ninja ``Schema``: the document is a dict, and ninja's attribute getter
    would drop the keys the model does not name.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ProfileDoc(_Open):
    id: str
    version: str


class StreamDoc(_Open):
    id: str
    category: Category
    share: float | None
    annual_emissions_t: float


class EquippingDoc(_Open):
    row: Row
    required: int
    equipped: int
    rate: float | None
    required_rate: float | None
    passed: bool = Field(alias="pass")
    unequipped_points: list[str]


class AccuracyDoc(_Open):
    required: str | None
    actual: str | None
    passed: bool | None = Field(alias="pass")


class InstrumentDoc(_Open):
    id: str
    traceable: bool
    counted: bool
    accuracy: AccuracyDoc


class FindingDoc(_Open):
    code: str
    clause: str
    severity: Severity
    subject: str
    message: str
    message_en: str


class AssessmentDocument(_Open):
    """The ``carbonmeter.assessment/1`` document of contract §4, as the engine wrote it."""

    schema_: Literal["carbonmeter.assessment/1"] = Field(alias="schema")
    profile: ProfileDoc
    as_of: dt.date
    total_emissions_t: float
    streams: list[StreamDoc]
    equipping: list[EquippingDoc]
    instruments: list[InstrumentDoc]
    findings: list[FindingDoc]
    conforms: bool


# ---- emissions and uncertainty of a run (contract §6.3), read from its stored document -------------------


class NotJudgedDoc(_Open):
    subject: str
    what: str
    reason: str
    reason_en: str


class EmissionStreamOut(_Open):
    """A formula stream's emissions and uncertainty; ``not_judged`` lists why what is null is not judged."""

    id: str
    name: str = Field(description="the stream's name in the register (empty when it has none)")
    formula: str = Field(description="an id of the run's pack's formulas table")
    formula_title: str = Field(description="the formula's title in the run's pack (Chinese)")
    formula_title_en: str = Field(description="the formula's title in the run's pack (English)")
    annual_emissions_t: float
    declared_emissions_t: float | None
    computed_emissions_t: float | None
    u_rel: float | None
    u95_t: float | None
    tier: int | None
    activity_u95_percent: float | None
    not_judged: list[NotJudgedDoc]


class MonteCarloDoc(_Open):
    draws: int
    u95_t: float


class UncertaintyDoc(_Open):
    total_u95_t: float | None
    total_u95_rel: float | None
    k: float
    complete: bool
    monte_carlo: MonteCarloDoc | None = None


class EmissionsOut(Schema):
    """A run's net total with its U95 (``uncertainty`` null when no stream was accounted by a formula)
    and its formula streams, largest first."""

    run: int
    total_emissions_t: float
    uncertainty: UncertaintyDoc | None
    streams: list[EmissionStreamOut]


class BudgetLineDoc(_Open):
    point: str
    parameter: str
    value: float | None
    unit: str
    u_rel: float | None
    instrument: str | None
    certificate_no: str | None
    contribution: float | None


class BudgetOut(Schema):
    """One formula stream's uncertainty budget: each input's share of the stream's variance."""

    run: int
    stream: EmissionStreamOut
    budget: list[BudgetLineDoc]


class AdviceDoc(_Open):
    point: str
    stream: str
    parameter: str
    contribution: float
    action: Literal["upgrade", "measure"]
    to: str | None
    reduction_t: float | None
    max_reduction_t: float | None
