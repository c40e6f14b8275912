"""The grammar of a rule pack, as pydantic models.

A rule pack holds every number the engine judges by — category thresholds, Table A.1 rates, Table A.2/A.3
accuracy requirements, the clause catalogue, the required management documents.  The standard is a draft, so
each number carries its provenance (``seed``: the drafting explanation; ``source``: a primary text;
``provisional``: a secondary source or an older edition, shown as such wherever it is used; ``missing``: no
value is known and the engine says so instead of passing silently).  See ``packs/README.md`` for the grammar
in prose.
"""

from __future__ import annotations

import re
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

PACK_SCHEMA = "carbonmeter.pack/1"

Tag = Literal["seed", "source", "provisional", "missing"]
Severity = Literal["nonconformity", "observation"]
T = TypeVar("T")

ROW_PATTERN = (
    r"^(indirect\.electricity_heat|measurement\.(organized|unorganized)|"
    r"calculation\.(major|minor|de_minimis)\.(activity_data|emission_factor))$"
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Provenance(Strict):
    """Where a value comes from; ``missing`` means no value is known."""

    tag: Tag
    note: str = ""


class Tagged(Provenance, Generic[T]):
    """A value with its provenance. ``value`` is null exactly when the tag is ``missing``."""

    value: T | None = None

    @model_validator(mode="after")
    def _value_matches_tag(self) -> Tagged[T]:
        if (self.value is None) != (self.tag == "missing"):
            raise ValueError("value must be null exactly when tag is 'missing'")
        return self


class CategoryThresholds(Strict):
    """3.9–3.11: a stream is major/minor by absolute emissions (t CO2e) or by share of the total."""

    major_t: Tagged[float]
    major_share: Tagged[float]
    minor_t: Tagged[float]
    minor_share: Tagged[float]


class UnorganizedThreshold(Strict):
    """A.1: unorganized emissions below both thresholds need no measuring instrument."""

    emissions_t: Tagged[float]
    share: Tagged[float]


class EquippingRow(Strict):
    """One row of Table A.1 and the equipping rate it requires (a fraction, 1.0 = 100 %)."""

    row: str = Field(pattern=ROW_PATTERN)
    title: Text
    required_rate: Tagged[float]
    #: The rate for a unit that is not a key emission unit, where the table distinguishes them.
    required_rate_non_key: Tagged[float] | None = None


class Band(Strict):
    """One requirement, optionally limited to operating values above and/or at-or-below a bound."""

    above: float | None = None
    at_or_below: float | None = None
    accuracy_class: str | None = None
    mpe_percent: float | None = Field(default=None, gt=0)
    mpe_abs: float | None = Field(default=None, gt=0)
    mpe_abs_unit: str = ""

    @model_validator(mode="after")
    def _one_requirement(self) -> Band:
        given = [x for x in (self.accuracy_class, self.mpe_percent, self.mpe_abs) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of accuracy_class, mpe_percent, mpe_abs")
        if self.mpe_abs is not None and not self.mpe_abs_unit:
            raise ValueError("mpe_abs needs mpe_abs_unit")
        return self


class AccuracyRequirement(Strict):
    """A row of Table A.2 (measurement method) or A.3 (calculation method), keyed by measuring purpose.

    ``bands`` is empty exactly when the tag is ``missing`` (requirement not loaded).  A single requirement
    can be written in shorthand (``accuracy_class: "III"`` beside ``tag``), which becomes one band.
    """

    table: Literal["A.2", "A.3"]
    title: Text
    basis: str = ""
    tag: Tag
    note: str = ""
    band_unit: str = ""
    bands: tuple[Band, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict):
            keys = {"accuracy_class", "mpe_percent", "mpe_abs", "mpe_abs_unit"}
            single = {k: data[k] for k in keys if k in data}
            if single:
                if "bands" in data:
                    raise ValueError("give either bands or a single requirement, not both")
                data = {k: v for k, v in data.items() if k not in keys} | {"bands": [single]}
        return data

    @model_validator(mode="after")
    def _bands_match_tag(self) -> AccuracyRequirement:
        if (not self.bands) != (self.tag == "missing"):
            raise ValueError("bands must be empty exactly when tag is 'missing'")
        if len(self.bands) > 1 and not self.band_unit:
            raise ValueError("banded requirements need band_unit")
        return self


class Clause(Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    tag: Tag
    note: str = ""


class RequiredDocument(Strict):
    kind: str = Field(pattern=r"^[a-z_]+$")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    tag: Tag
    note: str = ""


class Settings(Strict):
    """Numbers of the management checks and engine options, each with its provenance."""

    verification_due_soon_days: Tagged[int]
    portable_instruments_min: Tagged[int]
    accuracy_affects_equipping: Tagged[bool]
    register_required_fields: Tagged[tuple[str, ...]]
    classification_rule: Tagged[Literal["highest_any_test"]]


class Pack(Strict):
    """A whole rule pack as loaded; ``sha256`` and ``path`` are filled by the loader."""

    schema_: Literal["carbonmeter.pack/1"] = Field(alias="schema")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    version: str = Field(min_length=1)
    title: Text
    status: Literal["draft", "official"]
    sources: tuple[str, ...] = ()
    category_thresholds: CategoryThresholds
    unorganized_threshold: UnorganizedThreshold
    equipping_rows: tuple[EquippingRow, ...]
    accuracy_requirements: dict[str, AccuracyRequirement]
    clauses: dict[str, Clause]
    required_documents: tuple[RequiredDocument, ...]
    settings: Settings
    #: Severity a pack assigns to a finding code instead of the validator's default (e.g. 宜 vs 应).
    severity: dict[str, Tagged[Severity]] = Field(default_factory=dict)
    #: Clause a pack cites for a finding code, where its numbering differs from the validator's default.
    clause_map: dict[str, str] = Field(default_factory=dict)
    sha256: str = ""
    path: str = ""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _consistent(self) -> Pack:
        rows = [r.row for r in self.equipping_rows]
        dup = sorted({r for r in rows if rows.count(r) > 1})
        if dup:
            raise ValueError(f"equipping_rows: duplicate rows {dup}")
        missing = sorted(set(_ALL_ROWS) - set(rows))
        if missing:
            raise ValueError(f"equipping_rows: rows missing from Table A.1: {missing}")
        for code, clause in self.clause_map.items():
            if clause not in self.clauses:
                raise ValueError(f"clause_map.{code}: clause {clause!r} is not in the clause catalogue")
        for key in self.accuracy_requirements:
            if not re.fullmatch(r"[A-Za-z0-9_]+", key):
                raise ValueError(
                    f"accuracy_requirements: purpose {key!r} must be letters, digits and underscores"
                )
        return self

    def row(self, row_id: str) -> EquippingRow:
        return next(r for r in self.equipping_rows if r.row == row_id)


_ALL_ROWS = (
    "calculation.major.activity_data",
    "calculation.major.emission_factor",
    "calculation.minor.activity_data",
    "calculation.minor.emission_factor",
    "calculation.de_minimis.activity_data",
    "calculation.de_minimis.emission_factor",
    "measurement.organized",
    "measurement.unorganized",
    "indirect.electricity_heat",
)
ALL_ROWS: tuple[str, ...] = _ALL_ROWS
