"""Emission formulas (contract v1.1 §6.2–6.3): the arithmetic is code, the parameter lists are pack data.

A :class:`Formula` (from the pack's ``formulas`` table) names its parameters with their ``role``
(activity_data / emission_factor / cems), canonical unit(s) and the categories at which a default may
replace a measurement. This module holds only what the contract fixes as code: the arithmetic of each formula
id over named parameters (:data:`ARITHMETIC`), its first-order sensitivities, and the evaluation of a stream
from its points' values in any unit pint understands, with the stream's GUM uncertainty and budget.

| formula | E (t CO2) |
|---|---|
| ``fuel_ncv_cc`` | consumption × ncv × carbon_content × oxidation_rate × :data:`CO2_PER_C` |
| ``fuel_mass_cc`` | consumption × carbon_content × oxidation_rate × :data:`CO2_PER_C` |
| ``carbonate`` | consumption × emission_factor × conversion_fraction |
| ``clinker`` | clinker_output × ((cao − cao_nc) × :data:`CO2_PER_CAO` + (mgo − mgo_nc) × CO2_PER_MGO) |
| ``electricity`` / ``heat`` | activity × emission_factor |
| ``cems`` | the stream's measured annual mass; u_rel² = u_rel(concentration)² + u_rel(flow velocity)² |
| ``clinker_dust`` | (clinker_output + kiln_dust + bypass_dust) × the clinker's factor above |
| ``raw_meal_organic_carbon`` | raw_meal × organic_carbon_content × 44/12 |
| ``alt_fuel_ncv_cc`` | consumption × ncv × carbon_content × oxidation_rate × fossil_fraction × 44/12 |

The last three are the cement pack's (``cq-part2-cement``, provisional): the structure of the national cement
accounting guideline, where the dust leaving the kiln system takes the clinker's factor and only the fossil
share of an alternative fuel's carbon counts.

Several values of the activity parameter are parts of one flow and are summed; any other parameter takes at
most one value (contract §6.2). A formula may have several activity parameters (clinker and the two dusts):
the first in the pack's order is the formula's activity amount, the one whose tier is reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final

import numpy as np

from carbonmeter.quant.uncertainty import combine

#: t CO2 per t C: the ratio of the molar masses of CO2 and C written as 44/12, as the national accounting
#: guidelines (and the CQ draft's formulas) write it — not the IUPAC 44.0095/12.011. Stoichiometry, not a
#: rule number; the one place it is written.
CO2_PER_C: Final = 44.0 / 12.0
#: t CO2 per t CaO calcined from CaCO3 (molar masses 44/56, as the cement guideline writes them).
CO2_PER_CAO: Final = 44.0 / 56.0
#: t CO2 per t MgO calcined from MgCO3 (molar masses 44/40, as the cement guideline writes them).
CO2_PER_MGO: Final = 44.0 / 40.0
#: The unit every formula's result is expressed in.
EMISSIONS_UNIT: Final = "tCO2"


class Role(StrEnum):
    ACTIVITY_DATA = "activity_data"
    EMISSION_FACTOR = "emission_factor"
    CEMS = "cems"


class FormulaError(ValueError):
    """A formula cannot be evaluated: unknown id, a parameter the formula lacks, a unit of the wrong
    dimension, several values for a non-activity parameter. ``parameter`` locates it (``None``: the
    formula as a whole)."""

    def __init__(self, formula: str, parameter: str | None, detail: str) -> None:
        where = f"{formula}:{parameter}" if parameter else formula
        super().__init__(f"{where}: {detail}")
        self.formula = formula
        self.parameter = parameter
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Parameter:
    """A formula parameter as the pack declares it. ``units`` are the canonical units it may be given in
    (e.g. ``("t", "10^4 Nm^3")`` for a fuel's amount); a value is converted to the one of its dimension."""

    name: str
    role: Role
    units: tuple[str, ...]
    default_allowed: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula of the pack's ``formulas`` table: its id (a key of :data:`ARITHMETIC`) and parameters."""

    id: str
    parameters: tuple[Parameter, ...]
    #: The parameters by name (a 5,000-stream plant looks parameters up ~50,000 times).
    by_name: Mapping[str, Parameter] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {p.name: p for p in self.parameters})
        if self.id not in ARITHMETIC:
            raise FormulaError(self.id, None, f"no arithmetic for this formula (known: {sorted(ARITHMETIC)})")
        expected = ARITHMETIC[self.id].parameters
        given = tuple(p.name for p in self.parameters)
        if sorted(given) != sorted(expected):
            raise FormulaError(self.id, None, f"parameters {given} ≠ the arithmetic's {expected}")

    def parameter(self, name: str) -> Parameter:
        found = self.by_name.get(name)
        if found is None:
            raise FormulaError(self.id, name, "not a parameter of this formula")
        return found

    @property
    def activity(self) -> Parameter | None:
        """The formula's activity amount: its first activity parameter (the one whose tier is reported)."""
        return next((p for p in self.parameters if p.role is Role.ACTIVITY_DATA), None)


Values = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """The code half of a formula: the parameter names, ``evaluate(values) → E`` and ``gradient(values) →
    {name: ∂E/∂x}``, both over floats or numpy arrays (one element per stream). ``evaluate`` is ``None``
    where E is measured, not computed (CEMS)."""

    parameters: tuple[str, ...]
    evaluate: Callable[[Values], Any] | None
    gradient: Callable[[Values], dict[str, Any]]


def _product(names: tuple[str, ...], constant: float) -> Arithmetic:
    def evaluate(v: Values) -> Any:
        out: Any = constant
        for n in names:
            out = out * v[n]
        return out

    def gradient(v: Values) -> dict[str, Any]:
        grads: dict[str, Any] = {}
        for n in names:
            g: Any = constant
            for m in names:
                if m != n:
                    g = g * v[m]
            grads[n] = g
        return grads

    return Arithmetic(names, evaluate, gradient)


def _clinker_evaluate(v: Values) -> Any:
    return v["clinker_output"] * (
        (v["cao_content"] - v["cao_non_carbonate"]) * CO2_PER_CAO
        + (v["mgo_content"] - v["mgo_non_carbonate"]) * CO2_PER_MGO
    )


def _clinker_gradient(v: Values) -> dict[str, Any]:
    q = v["clinker_output"]
    return {
        "clinker_output": (v["cao_content"] - v["cao_non_carbonate"]) * CO2_PER_CAO
        + (v["mgo_content"] - v["mgo_non_carbonate"]) * CO2_PER_MGO,
        "cao_content": q * CO2_PER_CAO,
        "cao_non_carbonate": -q * CO2_PER_CAO,
        "mgo_content": q * CO2_PER_MGO,
        "mgo_non_carbonate": -q * CO2_PER_MGO,
    }


def _clinker_factor(v: Values) -> Any:
    """t CO2 per t of clinker (or of dust that left the kiln calcined like it)."""
    return (v["cao_content"] - v["cao_non_carbonate"]) * CO2_PER_CAO + (
        v["mgo_content"] - v["mgo_non_carbonate"]
    ) * CO2_PER_MGO


def _kiln_mass(v: Values) -> Any:
    return v["clinker_output"] + v["kiln_dust"] + v["bypass_dust"]


def _clinker_dust_gradient(v: Values) -> dict[str, Any]:
    m, f = _kiln_mass(v), _clinker_factor(v)
    return {
        "clinker_output": f,
        "kiln_dust": f,
        "bypass_dust": f,
        "cao_content": m * CO2_PER_CAO,
        "cao_non_carbonate": -m * CO2_PER_CAO,
        "mgo_content": m * CO2_PER_MGO,
        "mgo_non_carbonate": -m * CO2_PER_MGO,
    }


def _cems_gradient(v: Values) -> dict[str, Any]:
    """E ∝ concentration × flow velocity (the hourly mass is their product × area × time): relative
    sensitivity 1 each, so ``u_rel(E)² = u_rel(c)² + u_rel(v)²`` (contract §6.3); ``v["emissions"]`` is E."""
    e = v["emissions"]
    return {"co2_concentration": e / v["co2_concentration"], "flow_velocity": e / v["flow_velocity"]}


#: The arithmetic of every formula id the contract defines (§6.2).
ARITHMETIC: Final[Mapping[str, Arithmetic]] = {
    "fuel_ncv_cc": _product(("consumption", "ncv", "carbon_content", "oxidation_rate"), CO2_PER_C),
    "fuel_mass_cc": _product(("consumption", "carbon_content", "oxidation_rate"), CO2_PER_C),
    "carbonate": _product(("consumption", "emission_factor", "conversion_fraction"), 1.0),
    "clinker": Arithmetic(
        ("clinker_output", "cao_content", "mgo_content", "cao_non_carbonate", "mgo_non_carbonate"),
        _clinker_evaluate,
        _clinker_gradient,
    ),
    "electricity": _product(("electricity", "emission_factor"), 1.0),
    "heat": _product(("heat", "emission_factor"), 1.0),
    "cems": Arithmetic(("co2_concentration", "flow_velocity"), None, _cems_gradient),
    "clinker_dust": Arithmetic(
        (
            "clinker_output",
            "kiln_dust",
            "bypass_dust",
            "cao_content",
            "mgo_content",
            "cao_non_carbonate",
            "mgo_non_carbonate",
        ),
        lambda v: _kiln_mass(v) * _clinker_factor(v),
        _clinker_dust_gradient,
    ),
    "raw_meal_organic_carbon": _product(("raw_meal", "organic_carbon_content"), CO2_PER_C),
    "alt_fuel_ncv_cc": _product(
        ("consumption", "ncv", "carbon_content", "oxidation_rate", "fossil_fraction"), CO2_PER_C
    ),
}


@dataclass(frozen=True, slots=True)
class Value:
    """A point's value for a parameter: the number in its own unit, its relative standard uncertainty
    (``None``: not known, so the stream's uncertainty is not judged), the point id and the instrument that
    determined it (values of one instrument are fully correlated), and the certificate it rests on."""

    value: float
    unit: str
    u_rel: float | None = None
    point: str = ""
    instrument: str | None = None
    certificate_no: str | None = None


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """One input of a stream's budget (contract §6.3 ``streams[].budget``): ``value`` in the parameter's
    canonical ``unit``; ``contribution`` = its share of the stream's variance."""

    point: str
    parameter: str
    value: float
    unit: str
    u_rel: float | None
    instrument: str | None
    certificate_no: str | None
    contribution: float | None
    #: The signed component ``cᵢ·u(xᵢ)`` in t CO2 (what the plant total combines).
    component: float | None = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A stream's computed emissions (``None``: a value is missing, listed in ``missing``, or the formula
    measures rather than computes), its relative standard uncertainty and ``u_t`` (``None`` when some
    input has no uncertainty), and the budget, largest contribution first."""

    formula: str
    emissions_t: float | None
    missing: tuple[str, ...]
    u_rel: float | None
    u_t: float | None
    budget: tuple[BudgetLine, ...] = field(default=())
    canonical: Mapping[str, float] = field(default_factory=dict)

    def expanded_t(self, k: float) -> float | None:
        """``U = k·u`` with the pack's coverage factor (``cq-part1``: k = 2)."""
        return None if self.u_t is None else k * self.u_t


#: Spellings of a pure number that need no conversion into ``dimensionless``.
_PURE_NUMBER: Final = frozenset({"1", "dimensionless"})


def canonical_unit(formula: Formula, name: str, unit: str) -> tuple[str, float]:
    """The parameter's canonical unit of ``unit``'s dimension and the factor into it.

    A value given in a canonical unit (the everyday case) needs no conversion and no pint: importing pint and
    building its registry costs about a second, more than assessing a 20,000-instrument plant.
    """
    parameter = formula.parameter(name)
    given = unit.strip()
    for candidate in parameter.units:
        if given == candidate or (candidate == "dimensionless" and given in _PURE_NUMBER):
            return candidate, 1.0
    from carbonmeter.quant import units  # pint on first use: loading a pack checks formulas without it

    try:
        found = _canonical(parameter.units, unit)
    except units.UnitMismatch as exc:
        raise FormulaError(formula.id, name, f"unit {unit!r}: {exc.detail}") from exc
    if found is None:
        raise FormulaError(formula.id, name, f"unit {unit!r} does not fit {' or '.join(parameter.units)}")
    return found


@lru_cache(maxsize=4096)
def _canonical(alternatives: tuple[str, ...], unit: str) -> tuple[str, float] | None:
    from carbonmeter.quant import units

    for candidate in alternatives:
        if units.same_dimension(unit, candidate):
            return candidate, units.factor(unit, candidate)
    return None


def check_dimensions(formula: Formula, chosen: tuple[tuple[str, str], ...]) -> None:
    """The formula over the chosen canonical units gives a mass of CO2 (see :func:`_check_dimensions`)."""
    _check_dimensions(formula.id, chosen)


@lru_cache(maxsize=1024)
def _check_dimensions(formula_id: str, chosen: tuple[tuple[str, str], ...]) -> None:
    """The formula over the chosen canonical units gives a mass of CO2 (so a gas amount in 10^4 Nm³ is not
    multiplied by an NCV per tonne). Evaluated once per combination of units, on pint quantities."""
    from carbonmeter.quant import units

    arithmetic = ARITHMETIC[formula_id]
    if arithmetic.evaluate is None:
        return
    one = {name: units.parse(unit) for name, unit in chosen}
    try:
        ratio = arithmetic.evaluate(one) / units.parse(EMISSIONS_UNIT)
        ok = bool(getattr(ratio, "dimensionless", False))
    except Exception as exc:  # pint raises DimensionalityError on (mass − volume) and the like
        raise FormulaError(formula_id, None, f"units {dict(chosen)} do not combine: {exc}") from exc
    if not ok:
        raise FormulaError(formula_id, None, f"units {dict(chosen)} do not give a mass of CO2")


def evaluate(
    formula: Formula,
    values: Mapping[str, Value | Sequence[Value]],
    measured_emissions_t: float | None = None,
) -> Evaluation:
    """Evaluate a stream: convert each value into its parameter's canonical unit, sum the activity's parts,
    apply the arithmetic and propagate the relative uncertainties (first order; values of one instrument
    fully correlated). ``measured_emissions_t`` is the annual mass of a ``cems`` stream."""
    arithmetic = ARITHMETIC[formula.id]
    given: dict[str, list[Value]] = {}
    for name, v in values.items():
        formula.parameter(name)
        parts = [v] if isinstance(v, Value) else list(v)
        if not parts:
            continue
        if len(parts) > 1 and formula.parameter(name).role is not Role.ACTIVITY_DATA:
            raise FormulaError(formula.id, name, f"{len(parts)} values; only the activity's parts are summed")
        given[name] = parts
    missing = tuple(n for n in arithmetic.parameters if n not in given)
    canonical: dict[str, float] = {}
    chosen: dict[str, str] = {}
    converted: dict[str, list[float]] = {}
    for name, parts in given.items():
        amounts = []
        for part in parts:
            if not math.isfinite(part.value):
                raise FormulaError(formula.id, name, f"value {part.value} is not finite")
            unit, factor = canonical_unit(formula, name, part.unit)
            if chosen.setdefault(name, unit) != unit:
                raise FormulaError(formula.id, name, f"parts in {chosen[name]!r} and {unit!r}")
            amounts.append(part.value * factor)
        converted[name] = amounts
        canonical[name] = math.fsum(amounts)
    if missing:
        return Evaluation(formula.id, None, missing, None, None, (), canonical)
    if arithmetic.evaluate is None:
        emissions = measured_emissions_t
        if emissions is None:
            return Evaluation(formula.id, None, (), None, None, (), canonical)
        grads = arithmetic.gradient({**canonical, "emissions": emissions})
    else:
        if any(chosen[n] != formula.parameter(n).units[0] for n in chosen):
            # The formula's first units are checked for every pack by the tests (they give t CO2);
            # another combination (a gas in 10^4 Nm³ with an NCV per tonne?) is checked here, with pint.
            check_dimensions(formula, tuple(sorted(chosen.items())))
        emissions = float(arithmetic.evaluate(canonical))
        grads = arithmetic.gradient(canonical)
    lines: list[tuple[Value, str, float, float | None]] = []  # value, parameter, canonical part, component
    for name in arithmetic.parameters:
        for part, amount in zip(given[name], converted[name], strict=True):
            component = None if part.u_rel is None else float(grads[name]) * amount * part.u_rel
            lines.append((part, name, amount, component))
    judged = all(c is not None for *_, c in lines)
    shares: list[float | None] = [None] * len(lines)
    u_t: float | None = None
    if judged:
        u_t, shares_judged = _combine_few([(p.instrument, c or 0.0) for p, _, _, c in lines])
        shares = list(shares_judged)
    budget = sorted(
        (
            BudgetLine(
                point=part.point or f":{name}",
                parameter=name,
                value=amount,
                unit=chosen[name],
                u_rel=part.u_rel,
                instrument=part.instrument,
                certificate_no=part.certificate_no,
                contribution=share,
                component=component,
            )
            for (part, name, amount, component), share in zip(lines, shares, strict=True)
        ),
        key=lambda b: -(b.contribution or 0.0),
    )
    u_rel = None if u_t is None else (u_t / abs(emissions) if emissions else math.inf)
    return Evaluation(formula.id, emissions, (), u_rel, u_t, tuple(budget), canonical)


def _combine_few(items: Sequence[tuple[str | None, float]]) -> tuple[float, list[float]]:
    """:func:`~carbonmeter.quant.uncertainty.combine` for one output of a few inputs, in plain Python
    (numpy's per-call cost dominates below ~50 inputs): ``(instrument or None, component)`` pairs."""
    sums: dict[object, float] = {}
    keys: list[object] = []
    for i, (instrument, component) in enumerate(items):
        key: object = instrument if instrument else i
        keys.append(key)
        sums[key] = sums.get(key, 0.0) + component
    variance = math.fsum(v * v for v in sums.values())
    if variance <= 0:
        return 0.0, [0.0] * len(items)
    return math.sqrt(variance), [c * sums[k] / variance for (_, c), k in zip(items, keys, strict=True)]


def evaluate_batch(formula_id: str, values: Mapping[str, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """E for many streams of one formula at once: ``values`` maps each parameter to an array in its
    canonical unit (one element per stream)."""
    arithmetic = ARITHMETIC[formula_id]
    if arithmetic.evaluate is None:
        raise FormulaError(formula_id, None, "measured, not computed")
    arrays = {n: np.asarray(values[n], dtype=np.float64) for n in arithmetic.parameters}
    return np.asarray(arithmetic.evaluate(arrays), dtype=np.float64)


def gradient_batch(
    formula_id: str, values: Mapping[str, Any]
) -> dict[str, np.ndarray[Any, np.dtype[np.float64]]]:
    """∂E/∂x for many streams of one formula at once (see :func:`evaluate_batch`)."""
    arithmetic = ARITHMETIC[formula_id]
    arrays = {n: np.asarray(v, dtype=np.float64) for n, v in values.items()}
    return {n: np.asarray(g, dtype=np.float64) for n, g in arithmetic.gradient(arrays).items()}


@dataclass(frozen=True, slots=True)
class Term:
    """A stream in the plant total: its sign (+1 added, −1 deducted: exported electricity/heat, carbon in
    products, contract §6.3 *Total*), its emissions and its budget (components from :func:`evaluate`)."""

    sign: int
    emissions_t: float
    evaluation: Evaluation


@dataclass(frozen=True, slots=True)
class Total:
    """The net plant total and its standard uncertainty over every judged stream's inputs (instruments
    shared between streams stay fully correlated), with each input's share of the total's variance."""

    emissions_t: float
    u_t: float
    complete: bool
    shares: tuple[tuple[str, str, float], ...]  # (point, parameter, share), largest first


def total(terms: Sequence[Term]) -> Total:
    """Net total ``Σ signᵢ·Eᵢ`` and its combined standard uncertainty (contract §6.3 *Propagation*): every
    input of every judged stream, signed; streams whose uncertainty is not judged are left out of ``u``."""
    components: list[float] = []
    keys: list[str | None] = []
    labels: list[tuple[str, str]] = []
    complete = True
    for term in terms:
        if term.evaluation.u_t is None:
            complete = False
            continue
        for line in term.evaluation.budget:
            assert line.component is not None
            components.append(term.sign * line.component)
            keys.append(line.instrument)
            labels.append((line.point, line.parameter))
    numbers = {k: n for n, k in enumerate(sorted({k for k in keys if k}))}
    group = [numbers[k] if k else -1 for k in keys]
    result = combine(components, group=group, n_outputs=1)
    shares = sorted(
        ((p, n, float(s)) for (p, n), s in zip(labels, result.share, strict=True)), key=lambda t: -t[2]
    )
    net = math.fsum(t.sign * t.emissions_t for t in terms)
    return Total(net, float(result.u[0]), complete, tuple(shares))


def evaluate_many(formula: Formula, rows: Sequence[Mapping[str, Value]]) -> list[Evaluation]:
    """:func:`evaluate` for many streams of one formula at once, vectorised: each row gives every parameter
    exactly one value, already in the parameter's first canonical unit (no conversion, no dimension check —
    the first units of every pack formula are checked by the tests). Equal to :func:`evaluate` row by row
    (``tests/quant/test_formulas.py``); a plant of 5,000 streams is evaluated in a few numpy calls."""
    arithmetic = ARITHMETIC[formula.id]
    if arithmetic.evaluate is None:
        raise FormulaError(formula.id, None, "measured, not computed")
    names = arithmetic.parameters
    n, p = len(rows), len(names)
    if n == 0:
        return []
    values = {name: np.fromiter((r[name].value for r in rows), np.float64, n) for name in names}
    u_rel = {
        name: np.fromiter((np.nan if r[name].u_rel is None else r[name].u_rel for r in rows), np.float64, n)
        for name in names
    }
    emissions = np.broadcast_to(np.asarray(arithmetic.evaluate(values), dtype=np.float64), (n,))
    grads = arithmetic.gradient(values)
    comp = np.stack(
        [np.broadcast_to(np.asarray(grads[m] * values[m] * u_rel[m], dtype=np.float64), (n,)) for m in names],
        axis=1,
    )
    judged = np.asarray(~np.isnan(comp).any(axis=1), dtype=bool)
    keys: dict[str, int] = {}
    group = np.array(
        [
            [keys.setdefault(inst, len(keys)) if (inst := r[m].instrument) else -1 for m in names]
            for r in rows
        ],
        dtype=np.int64,
    ).reshape(n, p)
    combined = combine(
        np.where(np.isnan(comp), 0.0, comp).ravel(),
        output=np.repeat(np.arange(n, dtype=np.int64), p),
        group=group.ravel(),
        n_outputs=n,
    )
    share = combined.share.reshape(n, p)
    units = {m: formula.parameter(m).units[0] for m in names}
    out: list[Evaluation] = []
    e_list: list[float] = emissions.tolist()
    u_list: list[float] = combined.u.tolist()
    comp_list: list[list[float]] = comp.tolist()
    share_list: list[list[float]] = share.tolist()
    judged_list: list[bool] = judged.tolist()
    for i, r in enumerate(rows):
        ok = judged_list[i]
        lines = [
            BudgetLine(
                point=r[m].point or f":{m}",
                parameter=m,
                value=r[m].value,
                unit=units[m],
                u_rel=r[m].u_rel,
                instrument=r[m].instrument,
                certificate_no=r[m].certificate_no,
                contribution=share_list[i][j] if ok else None,
                component=None if r[m].u_rel is None else comp_list[i][j],
            )
            for j, m in enumerate(names)
        ]
        lines.sort(key=lambda b: -(b.contribution or 0.0))
        e = e_list[i]
        u_t = u_list[i] if ok else None
        u_rel_e = None if u_t is None else (u_t / abs(e) if e else math.inf)
        out.append(Evaluation(formula.id, e, (), u_rel_e, u_t, tuple(lines), {m: r[m].value for m in names}))
    return out
