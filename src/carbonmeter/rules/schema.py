"""The grammar of a rule pack, as msgspec structs.

A rule pack holds every number the engine judges by — category thresholds, Table A.1 rates, Table A.2/A.3
accuracy requirements, the clause catalogue, the required management documents.  The standard is a draft, so
each number carries its provenance (``seed``: the drafting explanation; ``source``: a primary text;
``provisional``: a secondary source or an older edition, shown as such wherever it is used; ``missing``: no
value is known and the engine says so instead of passing silently).  See ``packs/README.md`` for the grammar
in prose.  Cross-field rules live in ``__post_init__``: a ``ValueError`` there becomes a located load error.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Generic, Literal, TypeVar, get_args

from msgspec import Meta, Struct, field

if TYPE_CHECKING:
    from carbonmeter.quant.formulas import Formula as QuantFormula

PACK_SCHEMA = "carbonmeter.pack/1"

Tag = Literal["seed", "source", "provisional", "missing"]
Severity = Literal["nonconformity", "observation"]
T = TypeVar("T")
NonEmpty = Annotated[str, Meta(min_length=1)]

Row = Literal[
    "calculation.major.activity_data",
    "calculation.major.emission_factor",
    "calculation.minor.activity_data",
    "calculation.minor.emission_factor",
    "calculation.de_minimis.activity_data",
    "calculation.de_minimis.emission_factor",
    "measurement.organized",
    "measurement.unorganized",
    "indirect.electricity_heat",
]
#: The nine rows of Table A.1, in the order the engine reports them when a pack lists them so.
ALL_ROWS: tuple[str, ...] = get_args(Row)


class Strict(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Text(Strict, frozen=True, kw_only=True):
    zh: NonEmpty
    en: NonEmpty


class Tagged(Strict, Generic[T], frozen=True, kw_only=True):
    """A value with its provenance. ``value`` is null exactly when the tag is ``missing``."""

    tag: Tag
    value: T | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if (self.value is None) != (self.tag == "missing"):
            raise ValueError("value must be null exactly when tag is 'missing'")


class CategoryThresholds(Strict, frozen=True, kw_only=True):
    """3.9–3.11: a stream is major/minor by absolute emissions (t CO2e) or by share of the total."""

    major_t: Tagged[float]
    major_share: Tagged[float]
    minor_t: Tagged[float]
    minor_share: Tagged[float]


class UnorganizedThreshold(Strict, frozen=True, kw_only=True):
    """A.1: unorganized emissions below both thresholds need no measuring instrument."""

    emissions_t: Tagged[float]
    share: Tagged[float]


class EquippingRow(Strict, frozen=True, kw_only=True):
    """One row of Table A.1 and the equipping rate it requires (a fraction, 1.0 = 100 %)."""

    row: Row
    title: Text
    required_rate: Tagged[float]
    #: The rate for a unit that is not a key emission unit, where the table distinguishes them.
    required_rate_non_key: Tagged[float] | None = None


class Band(Strict, frozen=True, kw_only=True):
    """One requirement, optionally limited to operating values above and/or at-or-below a bound."""

    above: float | None = None
    at_or_below: float | None = None
    accuracy_class: str | None = None
    mpe_percent: Annotated[float, Meta(gt=0)] | None = None
    mpe_abs: Annotated[float, Meta(gt=0)] | None = None
    mpe_abs_unit: str = ""

    def __post_init__(self) -> None:
        given = [x for x in (self.accuracy_class, self.mpe_percent, self.mpe_abs) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of accuracy_class, mpe_percent, mpe_abs")
        if self.mpe_abs is not None and not self.mpe_abs_unit:
            raise ValueError("mpe_abs needs mpe_abs_unit")


class AccuracyRequirement(Strict, frozen=True, kw_only=True):
    """A row of Table A.2 (measurement method) or A.3 (calculation method), keyed by measuring purpose.

    ``bands`` is empty exactly when the tag is ``missing`` (requirement not loaded).  A single requirement
    may be written in shorthand (``accuracy_class: "III"`` beside ``tag``); the loader makes it one band.
    """

    table: Literal["A.2", "A.3"]
    title: Text
    tag: Tag
    basis: str = ""
    note: str = ""
    band_unit: str = ""
    bands: tuple[Band, ...] = ()

    def __post_init__(self) -> None:
        if (not self.bands) != (self.tag == "missing"):
            raise ValueError("bands must be empty exactly when tag is 'missing'")
        if len(self.bands) > 1 and not self.band_unit:
            raise ValueError("banded requirements need band_unit")


#: Keys of the shorthand form of a single-band requirement.
SHORTHAND_KEYS = ("accuracy_class", "mpe_percent", "mpe_abs", "mpe_abs_unit")


class Clause(Strict, frozen=True, kw_only=True):
    zh: NonEmpty
    en: NonEmpty
    tag: Tag
    note: str = ""


class RequiredDocument(Strict, frozen=True, kw_only=True):
    kind: Annotated[str, Meta(pattern=r"^[a-z_]+$")]
    zh: NonEmpty
    en: NonEmpty
    tag: Tag
    note: str = ""


class Settings(Strict, frozen=True, kw_only=True):
    """Numbers of the management checks and engine options, each with its provenance."""

    verification_due_soon_days: Tagged[int]
    portable_instruments_min: Tagged[int]
    accuracy_affects_equipping: Tagged[bool]
    register_required_fields: Tagged[tuple[str, ...]]
    classification_rule: Tagged[Literal["highest_any_test"]]
    #: 6.4.6: metering data are kept at least this many years; nothing younger may be deleted.
    data_retention_years: Tagged[int]
    #: CEMS hourly means: an hour is valid with at least this share of its minutes valid.
    cems_hour_valid_fraction: Tagged[float]
    #: Totalizers: a register drop is a rollover only if the wrapped delta is at most this share of the
    #: modulus (a register that falls from 400 000 to 100 000 did not wrap).
    counter_max_wrap_fraction: Tagged[float]
    #: Data availability below this share is marked on the ledger page and shaded in its workbook.
    readings_low_availability: Tagged[float]

    def __post_init__(self) -> None:
        for name in ("counter_max_wrap_fraction", "readings_low_availability"):
            share = getattr(self, name).value
            if share is None or not 0 < share <= 1:
                raise ValueError(f"settings.{name}: a share in (0, 1] is required")
        years, fraction = self.data_retention_years.value, self.cems_hour_valid_fraction.value
        if years is None or years < 1:
            raise ValueError(
                "settings.data_retention_years: a whole number of years, at least 1, is required"
            )
        if fraction is None or not 0 < fraction <= 1:
            raise ValueError("settings.cems_hour_valid_fraction: a share in (0, 1] is required")


Category = Literal["major", "minor", "de_minimis"]
Key = Annotated[str, Meta(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")]


class FormulaParameter(Strict, frozen=True, kw_only=True):
    """A parameter of a formula (contract §6.2): its role, the canonical unit(s) a value is converted into
    (one per dimension, e.g. ``[t, "10^4 Nm^3"]`` for a fuel's amount) and the stream categories at which a
    default value may replace a measurement."""

    role: Literal["activity_data", "emission_factor", "cems"]
    units: Annotated[tuple[NonEmpty, ...], Meta(min_length=1)]
    default_allowed: tuple[Category, ...] = ()
    note: str = ""


class FormulaSpec(Strict, frozen=True, kw_only=True):
    """A row of the pack's ``formulas`` table: the parameters are data, the arithmetic is code
    (:data:`carbonmeter.quant.formulas.ARITHMETIC`, keyed by the formula id)."""

    title: Text
    tag: Tag
    note: str = ""
    parameters: dict[Annotated[str, Meta(pattern=r"^[a-z0-9_]+$")], FormulaParameter]

    def __post_init__(self) -> None:
        if self.tag == "missing":
            raise ValueError("a formula is known or absent: tag 'missing' is not allowed here")
        if not self.parameters:
            raise ValueError("a formula needs parameters")


class Factor(Strict, frozen=True, kw_only=True):
    """An entry of the factor library (a default value), keyed like ``grid.national.2023``: value and unit,
    the relative standard uncertainty where a source states one, and where the value comes from."""

    tag: Tag
    value: float | None = None
    unit: NonEmpty
    u_rel: Annotated[float, Meta(ge=0)] | None = None
    scope: str = ""
    variant: str = ""
    region: str = ""
    year: int | None = None
    publication: str = ""
    source: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if (self.value is None) != (self.tag == "missing"):
            raise ValueError("value must be null exactly when tag is 'missing'")
        for name in ("value", "u_rel"):
            number = getattr(self, name)
            if number is not None and not math.isfinite(number):
                raise ValueError(f"{name}: a finite number is required")


class Pack(Strict, frozen=True, kw_only=True):
    """A whole rule pack as loaded; ``sha256`` and ``path`` are filled by the loader."""

    id: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9.-]*$")]
    version: NonEmpty
    title: Text
    status: Literal["draft", "official"]
    category_thresholds: CategoryThresholds
    unorganized_threshold: UnorganizedThreshold
    equipping_rows: tuple[EquippingRow, ...]
    accuracy_requirements: dict[Annotated[str, Meta(pattern=r"^[A-Za-z0-9_]+$")], AccuracyRequirement]
    clauses: dict[str, Clause]
    required_documents: tuple[RequiredDocument, ...]
    settings: Settings
    schema_: Literal["carbonmeter.pack/1"] = field(name="schema", default="carbonmeter.pack/1")
    sources: tuple[str, ...] = ()
    #: Severity a pack assigns to a finding code instead of the validator's default (e.g. 宜 vs 应).
    severity: dict[str, Tagged[Severity]] = {}
    #: Clause a pack cites for a finding code, where its numbering differs from the validator's default.
    clause_map: dict[str, str] = {}
    #: Contract v1.1 §6.2: formula id → parameters (roles, canonical units, where a default is allowed).
    formulas: dict[Annotated[str, Meta(pattern=r"^[a-z0-9_]+$")], FormulaSpec] = {}
    #: Contract v1.1 §6.3: the default values a point's ``factor`` names.
    factors: dict[Key, Factor] = {}
    #: k of U95 = k·u (contract §6.3).
    coverage_factor: Tagged[float] | None = None
    #: EU MRR Annex II: tier → the maximum U95 (%) of the activity amount that reaches it.
    tier_thresholds: Tagged[dict[int, float]] | None = None
    #: Measuring purpose → the steps of improvement (worst first) the advisor proposes, or ``missing``.
    upgrade_ladder: dict[Annotated[str, Meta(pattern=r"^[A-Za-z0-9_]+$")], Tagged[tuple[str, ...]]] = {}
    #: ``id@version`` (or a path) of the pack this one extends (1+N); resolved by the loader.
    extends: str = ""
    #: Where each value came from after ``extends`` is resolved: dotted key → pack ``id@version``.
    origins: dict[str, str] = {}
    sha256: str = ""
    path: str = ""

    def __post_init__(self) -> None:
        rows = [r.row for r in self.equipping_rows]
        dup = sorted({r for r in rows if rows.count(r) > 1})
        if dup:
            raise ValueError(f"equipping_rows: duplicate rows {dup}")
        missing = sorted(set(ALL_ROWS) - set(rows))
        if missing:
            raise ValueError(f"equipping_rows: rows missing from Table A.1: {missing}")
        for code, clause in self.clause_map.items():
            if clause not in self.clauses:
                raise ValueError(f"clause_map.{code}: clause {clause!r} is not in the clause catalogue")
        for purpose in self.upgrade_ladder:
            if purpose not in self.accuracy_requirements:
                raise ValueError(f"upgrade_ladder.{purpose}: not a purpose of accuracy_requirements")
        k = self.coverage_factor
        if k is not None and not (k.value is not None and math.isfinite(k.value) and k.value > 0):
            raise ValueError("coverage_factor: k must be a positive number")
        if self.tier_thresholds is not None and self.tier_thresholds.value is not None:
            limits = [self.tier_thresholds.value[t] for t in sorted(self.tier_thresholds.value)]
            bad = any(not (math.isfinite(x) and x > 0) for x in limits)
            if bad or limits != sorted(limits, reverse=True):
                raise ValueError("tier_thresholds: positive limits, tighter for a higher tier")
        for fid, spec in self.formulas.items():
            problem = _formula_problem(fid, spec)
            if problem:
                raise ValueError(f"formulas.{fid}: {problem}")

    def formula(self, formula_id: str) -> QuantFormula:
        """The formula ``formula_id`` as :mod:`carbonmeter.quant.formulas` evaluates it (KeyError: absent)."""
        return _quant_formula(formula_id, self.formulas[formula_id])

    def tiers(self) -> dict[int, float]:
        """Tier → maximum U95 in % (for :func:`carbonmeter.quant.uncertainty.tier`); empty when not held."""
        t = self.tier_thresholds
        return {} if t is None or t.value is None else dict(t.value)

    def origin(self, dotted_key: str) -> str:
        """The ``id@version`` of the pack a value comes from: the most specific recorded key that is a
        prefix of ``dotted_key`` (``formulas.clinker.parameters.q`` → the origin of ``formulas.clinker``)."""
        parts = dotted_key.split(".")
        for n in range(len(parts), 0, -1):
            found = self.origins.get(".".join(parts[:n]))
            if found:
                return found
        return f"{self.id}@{self.version}"

    def row(self, row_id: str) -> EquippingRow:
        return next(r for r in self.equipping_rows if r.row == row_id)


def _quant_formula(formula_id: str, spec: FormulaSpec) -> QuantFormula:
    from carbonmeter.quant.formulas import Formula, Parameter, Role

    return Formula(
        formula_id,
        tuple(
            Parameter(name, Role(p.role), p.units, frozenset(p.default_allowed))
            for name, p in spec.parameters.items()
        ),
    )


def _formula_problem(formula_id: str, spec: FormulaSpec) -> str:
    """Why the pack's formula does not fit the code's arithmetic (unknown id, other parameters), or ''."""
    from carbonmeter.quant.formulas import FormulaError

    try:
        _quant_formula(formula_id, spec)
    except FormulaError as exc:
        return exc.detail
    return ""
