"""The accounting model (contract v1.1 §6.2–6.3): each formula stream's computed emissions, its GUM
uncertainty and budget, the tier of its activity amount, the plant's net total with its U95, and the advisor.

Pure and linear in the snapshot: the arithmetic and the propagation are :mod:`carbonmeter.quant.formulas`;
this module only decides, per the contract, *which* number and *which* uncertainty each input is:

- the value: the point's ``value`` in its ``unit``; for a default point without one, its ``factor`` from the
  pack's factor library;
- the relative standard uncertainty, first found of: the point's ``u_rel``; a default's factor ``u_rel``; the
  *determining instrument* (the counted linked instruments first, then the smallest uncertainty, ties in
  register order) — U/k of the pass record that makes it traceable where that states U (normal), else its
  MPE/√3 (rectangular: class number in %, the stated system accuracy, else the components' root sum of
  squares);
- inputs determined by one instrument are fully correlated.

What cannot be judged (a value or an uncertainty without a source) is listed, never guessed; input that
contradicts the pack (an unknown formula or factor, a unit of the wrong dimension, two values for one factor,
a stream that can be neither computed nor taken as declared) is an :class:`InputProblems` error naming where.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from carbonmeter.core.accuracy import actual_accuracy
from carbonmeter.core.classify import sign
from carbonmeter.core.findings import NotJudged
from carbonmeter.core.integrity import Problem
from carbonmeter.core.snapshot import Calibration, Instrument, MeasuringPoint, Snapshot, SourceStream
from carbonmeter.core.terms import parameter_name
from carbonmeter.core.traceability import Trace
from carbonmeter.rules.schema import Pack

if TYPE_CHECKING:
    from carbonmeter.quant.formulas import Evaluation, Formula, Value

#: How an input's uncertainty is distributed for Monte Carlo: normal for a stated U/k or u_rel, rectangular
#: for an MPE bound.
Distribution = Literal["normal", "rectangular"]
_SQRT3 = math.sqrt(3.0)


class InputProblems(ValueError):
    """The snapshot contradicts the pack's formulas or factors: every problem with its JSON pointer."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(f"{p.pointer}: {p.message}" for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class Uncertainty:
    """A relative standard uncertainty with where it comes from."""

    u_rel: float
    distribution: Distribution
    source: Literal["point", "factor", "certificate", "mpe"]
    certificate_no: str | None = None


def instrument_uncertainty(instrument: Instrument, tr: Trace[Calibration]) -> Uncertainty | None:
    """An instrument's relative standard uncertainty (contract §6.3): U/k of the pass record that makes it
    traceable where the certificate states U, else its MPE/√3; ``None`` when neither is known."""
    rec = tr.record if tr.traceable else None
    if rec is not None and rec.expanded_uncertainty_percent is not None:
        k = rec.coverage_factor or 2.0
        return Uncertainty(
            rec.expanded_uncertainty_percent / 100.0 / k, "normal", "certificate", rec.certificate_no or None
        )
    acc = actual_accuracy(instrument)
    percent = acc.relative_percent if acc is not None else None
    if percent is None:
        return None
    cert = rec.certificate_no if rec is not None and rec.certificate_no else None
    return Uncertainty(percent / 100.0 / _SQRT3, "rectangular", "mpe", cert)


@dataclass(frozen=True, slots=True)
class Input:
    """One point's contribution to a formula: its value (``None``: no value), uncertainty and instrument."""

    point: str
    parameter: str
    value: float | None
    unit: str
    uncertainty: Uncertainty | None
    instrument: str | None
    #: A CEMS point carries no annual value (the stream's mass is measured): its value is a stand-in.
    stand_in: bool = False


@dataclass(frozen=True, slots=True)
class StreamAccount:
    """A stream's accounting: declared and computed emissions, the one classification uses, U95, tier."""

    stream: str
    formula: str | None
    declared_t: float | None
    computed_t: float | None
    evaluation: Evaluation | None = None
    inputs: tuple[Input, ...] = ()
    #: Formula parameters without a usable value (so the emissions are not computed).
    missing: tuple[str, ...] = ()
    u95_t: float | None = None
    u_rel: float | None = None
    #: U95 of the activity amount in % and the EU MRR tier it reaches (calculation streams).
    activity_u95_percent: float | None = None
    tier: int | None = None

    @property
    def emissions_t(self) -> float:
        """Computed where available, else declared (contract §6.3): what classification uses."""
        value = self.computed_t if self.computed_t is not None else self.declared_t
        assert value is not None, "checked by accounts(): a stream has computed or declared emissions"
        return value


@dataclass(frozen=True, slots=True)
class Advice:
    """An advisor line (contract §6.3): an input of the plant total and what to do about it."""

    point: str
    stream: str
    parameter: str
    contribution: float
    action: Literal["upgrade", "measure"]
    to: str | None
    reduction_t: float | None
    #: Additive: the plant's U95 now minus with this input's uncertainty removed altogether — the most any
    #: action on it can gain (shown where the pack holds no ladder step).
    max_reduction_t: float


@dataclass(frozen=True, slots=True)
class Accounting:
    streams: dict[str, StreamAccount]
    k: float
    total_u95_t: float | None
    complete: bool
    #: Each input of the total: (point, stream, parameter, signed component cᵢ·uᵢ in t, correlation key).
    components: tuple[tuple[str, str, str, float, str | None], ...] = ()
    advisor: tuple[Advice, ...] = ()
    not_judged: tuple[NotJudged, ...] = field(default=())

    def emissions(self) -> dict[str, float]:
        return {sid: a.emissions_t for sid, a in self.streams.items()}


def coverage_factor(pack: Pack) -> float:
    k = pack.coverage_factor
    return k.value if k is not None and k.value is not None else 2.0


def determining_instrument(
    linked: Sequence[Instrument],
    counted: Mapping[str, bool],
    uncertainties: Mapping[str, Uncertainty | None],
) -> Instrument | None:
    """Among a point's linked instruments: the counted ones first, then the smallest uncertainty, ties in
    register order (contract §6.3)."""
    pool = [i for i in linked if counted.get(i.id)] or list(linked)
    if not pool:
        return None

    def key(pair: tuple[int, Instrument]) -> tuple[float, int]:
        u = uncertainties.get(pair[1].id)
        return (u.u_rel if u is not None else math.inf, pair[0])

    return min(enumerate(pool), key=key)[1]


class _Context:
    """What every stream's accounting reads, gathered once."""

    def __init__(
        self,
        snapshot: Snapshot,
        pack: Pack,
        linked: Mapping[str, Sequence[Instrument]],
        traces: Mapping[str, Trace[Calibration]],
        counted: Mapping[str, bool],
    ) -> None:
        self.snapshot = snapshot
        self.pack = pack
        self.linked = linked
        self.counted = counted
        self.uncertainties = {i.id: instrument_uncertainty(i, traces[i.id]) for i in snapshot.instruments}
        self.certificates = {
            iid: tr.record.certificate_no
            for iid, tr in traces.items()
            if tr.traceable and tr.record is not None
        }
        self.point_index = {p.id: n for n, p in enumerate(snapshot.measuring_points)}
        self.problems: list[Problem] = []
        self.not_judged: list[NotJudged] = []
        self.formulas: dict[str, Formula] = {}
        # quant (numpy) is imported only for a snapshot with formulas, once per assessment.
        from carbonmeter.quant.formulas import Value, evaluate
        from carbonmeter.quant.uncertainty import tier

        self.value_type, self.evaluate, self.tier = Value, evaluate, tier
        self.tiers = pack.tiers()
        self.k = coverage_factor(pack)

    def formula(self, formula_id: str) -> Formula:
        """The pack's formula, built once per assessment (not once per stream)."""
        found = self.formulas.get(formula_id)
        if found is None:
            found = self.formulas[formula_id] = self.pack.formula(formula_id)
        return found

    def problem(self, point: MeasuringPoint, key: str, message: str) -> None:
        self.problems.append(Problem(f"/measuring_points/{self.point_index[point.id]}/{key}", message))


def _input(ctx: _Context, point: MeasuringPoint, parameter: str, formula: Formula) -> Input:
    """The value and uncertainty a point gives its formula parameter."""
    value: float | None = point.value
    unit = point.unit
    u: Uncertainty | None = None
    if point.u_rel is not None:
        u = Uncertainty(point.u_rel, "normal", "point")
    if point.factor is not None:
        factor = ctx.pack.factors.get(point.factor)
        if factor is None:
            ctx.problem(point, "factor", f"factor {point.factor!r} is not in the pack (规则包无此缺省值)")
        elif value is None and point.determination == "default":
            value, unit = factor.value, factor.unit
            if u is None and factor.u_rel is not None:
                u = Uncertainty(factor.u_rel, "normal", "factor")
    instrument: Instrument | None = None
    if point.determination == "measured":
        instrument = determining_instrument(ctx.linked.get(point.id, ()), ctx.counted, ctx.uncertainties)
        if instrument is not None:
            own = ctx.uncertainties[instrument.id]
            if u is None:
                u = own
            elif u.certificate_no is None and ctx.certificates.get(instrument.id):
                # A value whose uncertainty its own source states (a lab report) still rests on the
                # instrument's certificate: the budget names it for the verifier.
                u = Uncertainty(u.u_rel, u.distribution, u.source, ctx.certificates[instrument.id])
    stand_in = False
    if formula.id == "cems" and value is None:
        value, unit, stand_in = 1.0, formula.parameter(parameter).units[0], True
    return Input(point.id, parameter, value, unit, u, instrument.id if instrument else None, stand_in)


def _value(inp: Input, value_type: type[Value]) -> Value:
    assert inp.value is not None
    return value_type(
        inp.value,
        inp.unit,
        inp.uncertainty.u_rel if inp.uncertainty is not None else None,
        inp.point,
        inp.instrument,
        inp.uncertainty.certificate_no if inp.uncertainty is not None else None,
    )


def _activity_u95_percent(evaluation: Evaluation, formula: Formula, k: float) -> float | None:
    """U95 (%) of the formula's activity amount: its parts summed, one instrument's parts correlated."""
    activity = formula.activity
    if activity is None:
        return None
    lines = [b for b in evaluation.budget if b.parameter == activity.name]
    if not lines or any(b.u_rel is None for b in lines):
        return None
    sums: dict[object, float] = {}
    for n, b in enumerate(lines):
        key: object = b.instrument or n
        sums[key] = sums.get(key, 0.0) + b.value * (b.u_rel or 0.0)
    amount = math.fsum(b.value for b in lines)
    if amount <= 0:
        return None
    return 100.0 * k * math.sqrt(math.fsum(s * s for s in sums.values())) / amount


@dataclass(slots=True)
class _Prepared:
    """A formula stream between gathering its values and evaluating them."""

    index: int
    stream: SourceStream
    formula: Formula
    points: Sequence[MeasuringPoint]
    inputs: list[Input]
    values: dict[str, list[Value]]
    missing: list[str]

    def simple(self) -> bool:
        """One value per parameter, each in the parameter's first unit: evaluated in a batch."""
        if self.missing or self.formula.id == "cems":
            return False
        for param in self.formula.parameters:
            parts = self.values.get(param.name, ())
            if len(parts) != 1 or parts[0].unit.strip() not in _first_spellings(param.units[0]):
                return False
        return True


def _first_spellings(unit: str) -> frozenset[str]:
    return _PURE_NUMBER if unit == "dimensionless" else frozenset({unit})


_PURE_NUMBER = frozenset({"1", "dimensionless"})


def _prepare(
    ctx: _Context, index: int, stream: SourceStream, points: Sequence[MeasuringPoint]
) -> _Prepared | StreamAccount:
    """A stream's inputs and values, or its account at once where it has no (known) formula."""
    declared = stream.annual_emissions_t
    if stream.formula is None:
        return StreamAccount(stream.id, None, declared, None)
    if stream.formula not in ctx.pack.formulas:
        ctx.problems.append(
            Problem(
                f"/source_streams/{index}/formula",
                f"formula {stream.formula!r} is not in the pack's formulas table (规则包无此核算公式)",
            )
        )
        return StreamAccount(stream.id, stream.formula, declared, None)
    formula = ctx.formula(stream.formula)
    names = formula.by_name
    inputs = [_input(ctx, p, p.parameter, formula) for p in points if p.parameter in names]
    by_param: dict[str, list[Input]] = {}
    for inp in inputs:
        by_param.setdefault(inp.parameter, []).append(inp)
    values: dict[str, list[Value]] = {}
    missing: list[str] = []
    for param in formula.parameters:
        given = by_param.get(param.name, [])
        if not given or any(i.value is None for i in given):
            missing.append(param.name)
            continue
        if len(given) > 1 and param.role != "activity_data":
            second = next(p for p in points if p.id == given[1].point)
            ctx.problem(
                second, "value", f"{stream.id}: a second value for {param.name!r} (该参数只能有一个年度值)"
            )
            continue
        values[param.name] = [_value(i, ctx.value_type) for i in given]
    return _Prepared(index, stream, formula, points, inputs, values, missing)


def _evaluate_one(ctx: _Context, prep: _Prepared) -> Evaluation | None:
    """The scalar path (several parts, a unit to convert, a value missing, CEMS); ``None`` on a located
    problem."""
    from carbonmeter.quant.formulas import FormulaError

    measured = prep.stream.annual_emissions_t if prep.formula.id == "cems" else None
    try:
        return ctx.evaluate(prep.formula, prep.values, measured)
    except FormulaError as exc:
        bad = next((p for p in prep.points if p.parameter == exc.parameter and p.value is not None), None)
        if bad is not None:
            ctx.problem(bad, "unit", f"{exc.detail} (单位与核算公式参数不符)")
        else:
            where = f"/source_streams/{prep.index}/formula"
            ctx.problems.append(Problem(where, f"{exc} (核算公式无法计算)"))
        return None


def _evaluate_all(ctx: _Context, prepared: Sequence[_Prepared]) -> dict[str, Evaluation | None]:
    """Every prepared stream's evaluation: the simple ones in one batch per formula, the others one by one."""
    from carbonmeter.quant.formulas import evaluate_many

    out: dict[str, Evaluation | None] = {}
    batches: dict[str, list[_Prepared]] = {}
    for prep in prepared:
        if prep.simple():
            batches.setdefault(prep.formula.id, []).append(prep)
        else:
            out[prep.stream.id] = _evaluate_one(ctx, prep)
    for group in batches.values():
        rows = [{name: parts[0] for name, parts in prep.values.items()} for prep in group]
        for prep, evaluation in zip(group, evaluate_many(group[0].formula, rows), strict=True):
            out[prep.stream.id] = evaluation
    return out


def _finish(ctx: _Context, prep: _Prepared, evaluation: Evaluation | None) -> StreamAccount:
    stream, declared = prep.stream, prep.stream.annual_emissions_t
    if evaluation is None:
        return StreamAccount(stream.id, stream.formula, declared, None, inputs=tuple(prep.inputs))
    computed = evaluation.emissions_t if prep.formula.id != "cems" else None
    if evaluation.emissions_t is None and declared is None:
        ctx.problems.append(
            Problem(
                f"/source_streams/{prep.index}/annual_emissions_t",
                f"{stream.id}: emissions cannot be computed (no value for {', '.join(prep.missing)}) "
                "and none are declared (核算公式缺少参数值，且未填写年排放量)",
            )
        )
    k = ctx.k
    calculation = stream.method == "calculation"
    activity = _activity_u95_percent(evaluation, prep.formula, k) if calculation else None
    return StreamAccount(
        stream=stream.id,
        formula=stream.formula,
        declared_t=declared,
        computed_t=computed,
        evaluation=evaluation,
        inputs=tuple(prep.inputs),
        missing=tuple(prep.missing),
        u95_t=evaluation.expanded_t(k),
        u_rel=evaluation.u_rel,
        activity_u95_percent=activity,
        tier=ctx.tier(activity, ctx.tiers) if calculation else None,
    )


def _not_judged(ctx: _Context, account: StreamAccount) -> None:
    """Why a formula stream's emissions or uncertainty are not judged, once per subject."""
    if account.formula is None or account.evaluation is None:
        return
    for param in account.missing:
        subject = next((i.point for i in account.inputs if i.parameter == param), f"{account.stream}:{param}")
        ctx.not_judged.append(
            NotJudged(
                subject,
                "emissions",
                "NJ-EMI",
                {"stream": account.stream, "parameter": parameter_name(param)},
            )
        )
    for inp in account.inputs:
        if inp.value is not None and inp.uncertainty is None:
            ctx.not_judged.append(
                NotJudged(inp.point, "uncertainty", "NJ-UNC", {"stream": account.stream, "point": inp.point})
            )


def accounts(
    snapshot: Snapshot,
    pack: Pack,
    linked: Mapping[str, Sequence[Instrument]],
    traces: Mapping[str, Trace[Calibration]],
    counted: Mapping[str, bool],
) -> Accounting:
    """Every stream's accounting and the plant total; :class:`InputProblems` when the input contradicts the
    pack (every problem at once)."""
    if not any(s.formula for s in snapshot.source_streams):  # a v1 snapshot: its declared figures
        declared = {
            s.id: StreamAccount(s.id, None, s.annual_emissions_t, None) for s in snapshot.source_streams
        }
        return Accounting(streams=declared, k=coverage_factor(pack), total_u95_t=None, complete=False)
    ctx = _Context(snapshot, pack, linked, traces, counted)
    by_stream: dict[str, list[MeasuringPoint]] = {s.id: [] for s in snapshot.source_streams}
    for p in snapshot.measuring_points:
        by_stream[p.stream].append(p)
    prepared: list[_Prepared] = []
    early: dict[str, StreamAccount] = {}
    for index, s in enumerate(snapshot.source_streams):
        prep = _prepare(ctx, index, s, by_stream[s.id])
        if isinstance(prep, StreamAccount):
            early[s.id] = prep
        else:
            prepared.append(prep)
    evaluations = _evaluate_all(ctx, prepared)
    finished = {prep.stream.id: _finish(ctx, prep, evaluations[prep.stream.id]) for prep in prepared}
    streams: dict[str, StreamAccount] = {}
    for s in snapshot.source_streams:
        streams[s.id] = account = early.get(s.id) or finished[s.id]
        _not_judged(ctx, account)
    if ctx.problems:
        raise InputProblems(ctx.problems)
    k = coverage_factor(pack)
    components, complete = _components(snapshot, streams)
    u95 = k * _combined(components) if components or complete else None
    advisor = _advise(ctx, snapshot, streams, components, k) if components else ()
    return Accounting(
        streams=streams,
        k=k,
        total_u95_t=u95,
        complete=complete,
        components=tuple(components),
        advisor=advisor,
        not_judged=tuple(ctx.not_judged),
    )


def _components(
    snapshot: Snapshot, streams: Mapping[str, StreamAccount]
) -> tuple[list[tuple[str, str, str, float, str | None]], bool]:
    """The signed components of the plant total over every judged stream; complete when every stream is."""
    out: list[tuple[str, str, str, float, str | None]] = []
    complete = True
    for s in snapshot.source_streams:
        ev = streams[s.id].evaluation
        if ev is None or ev.u_t is None or ev.emissions_t is None:
            complete = False
            continue
        for line in ev.budget:
            assert line.component is not None
            out.append((line.point, s.id, line.parameter, sign(s) * line.component, line.instrument))
    return out, complete


def _combined(components: Sequence[tuple[str, str, str, float, str | None]]) -> float:
    """Standard uncertainty of the total: components of one instrument add before squaring (r = 1)."""
    sums: dict[object, float] = {}
    for n, (*_, c, instrument) in enumerate(components):
        key: object = instrument if instrument else n
        sums[key] = sums.get(key, 0.0) + c
    return math.sqrt(math.fsum(v * v for v in sums.values()))


def _shares(components: Sequence[tuple[str, str, str, float, str | None]]) -> list[float]:
    sums: dict[object, float] = {}
    keys: list[object] = []
    for n, (*_, c, instrument) in enumerate(components):
        key: object = instrument if instrument else n
        keys.append(key)
        sums[key] = sums.get(key, 0.0) + c
    variance = math.fsum(v * v for v in sums.values())
    if variance <= 0:
        return [0.0] * len(components)
    return [c[3] * sums[key] / variance for c, key in zip(components, keys, strict=True)]


def _next_step(pack: Pack, purpose: str | None, current: str | None) -> str | None:
    """The next better step of the pack's ladder for ``purpose`` after the instrument's ``current`` class."""
    if purpose is None:
        return None
    ladder = pack.upgrade_ladder.get(purpose)
    if ladder is None or ladder.value is None:
        return None
    steps = list(ladder.value)
    if current in steps:
        at = steps.index(current)
        return steps[at + 1] if at + 1 < len(steps) else None
    return steps[0] if steps else None


def _step_u_rel(step: str) -> float | None:
    from carbonmeter.core.accuracy import parse_class

    acc = parse_class(step)
    percent = acc.relative_percent if acc is not None else None
    return None if percent is None else percent / 100.0 / _SQRT3


def _advise(
    ctx: _Context,
    snapshot: Snapshot,
    streams: Mapping[str, StreamAccount],
    components: Sequence[tuple[str, str, str, float, str | None]],
    k: float,
) -> tuple[Advice, ...]:
    """The inputs of the plant total ranked by their share of its variance (≥ 1 %, at most 10)."""
    shares = _shares(components)
    now = k * _combined(components)
    points = {p.id: p for p in snapshot.measuring_points}
    instruments = {i.id: i for i in snapshot.instruments}
    inputs = {(i.point, i.parameter): i for a in streams.values() for i in a.inputs}
    ranked = sorted(range(len(components)), key=lambda n: -shares[n])
    out: list[Advice] = []
    for n in ranked:
        if shares[n] < 0.01 or len(out) == 10:
            break
        point_id, stream_id, parameter, comp, instrument_id = components[n]
        point = points.get(point_id)
        without = [c for m, c in enumerate(components) if m != n]
        max_reduction = now - k * _combined(without)
        if point is not None and point.determination == "measured":
            inst = instruments.get(instrument_id) if instrument_id else None
            to = _next_step(ctx.pack, point.purpose, inst.accuracy_class if inst else None)
            reduction = None
            inp = inputs.get((point_id, parameter))
            step_u = _step_u_rel(to) if to is not None else None
            if (
                step_u is not None
                and inp is not None
                and inp.uncertainty is not None
                and inp.uncertainty.u_rel
            ):
                scaled = comp * step_u / inp.uncertainty.u_rel
                better = [*without, (point_id, stream_id, parameter, scaled, instrument_id)]
                reduction = now - k * _combined(better)
            out.append(
                Advice(point_id, stream_id, parameter, shares[n], "upgrade", to, reduction, max_reduction)
            )
        else:
            out.append(
                Advice(point_id, stream_id, parameter, shares[n], "measure", None, None, max_reduction)
            )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class MonteCarlo:
    """JCGM 101 check of the plant total: the number of draws and the half-width of the probabilistically
    symmetric 95 % coverage interval (contract §6.3 ``uncertainty.monte_carlo``)."""

    draws: int
    u95_t: float


def monte_carlo(
    snapshot: Snapshot, accounting: Accounting, draws: int, seed: int = 20251231, chunk: int = 100_000
) -> MonteCarlo:
    """Propagate the distributions of every judged stream's inputs through its formula and the net total.

    Inputs are normal where the uncertainty is a stated u or U/k, rectangular where it is an MPE bound;
    inputs determined by one instrument share one draw (r = 1).  Streams whose uncertainty is not judged
    enter at their emissions without spread, as in the GUM total.  Draws are made ``chunk`` at a time.
    """
    import numpy as np

    from carbonmeter.quant.formulas import ARITHMETIC
    from carbonmeter.quant.montecarlo import coverage_interval

    if draws < 2:
        raise ValueError(f"need at least 2 draws, got {draws}")
    rng = np.random.default_rng(seed)
    # Per judged stream: its formula, and per parameter the (amount, u_rel, group) of its parts.
    groups: dict[object, Distribution] = {}
    plan: list[tuple[int, str, float, dict[str, list[tuple[float, float, object]]]]] = []
    fixed = 0.0
    for s in snapshot.source_streams:
        account = accounting.streams[s.id]
        ev = account.evaluation
        if ev is None or ev.u_t is None or ev.emissions_t is None:
            fixed += sign(s) * account.emissions_t
            continue
        dist = {(i.point, i.parameter): i.uncertainty for i in account.inputs}
        params: dict[str, list[tuple[float, float, object]]] = {}
        for n, line in enumerate(ev.budget):
            u = dist.get((line.point, line.parameter))
            key: object = line.instrument or (s.id, n)
            groups.setdefault(key, u.distribution if u is not None else "normal")
            params.setdefault(line.parameter, []).append((line.value, line.u_rel or 0.0, key))
        plan.append((sign(s), ev.formula, ev.emissions_t, params))
    keys = list(groups)
    index = {k: n for n, k in enumerate(keys)}
    rect = np.array([groups[k] == "rectangular" for k in keys], dtype=bool)
    out = np.empty(draws)
    for start in range(0, draws, chunk):
        n = min(chunk, draws - start)
        z = rng.standard_normal((len(keys), n))
        if rect.any():  # a uniform on [-√3, √3]: unit variance, like the normals
            z[rect] = rng.uniform(-_SQRT3, _SQRT3, (int(rect.sum()), n))
        total = np.full(n, fixed)
        for sgn, formula_id, emissions, params in plan:
            drawn = {
                name: sum(a * (1.0 + u * z[index[g]]) for a, u, g in parts) for name, parts in params.items()
            }
            arithmetic = ARITHMETIC[formula_id]
            if arithmetic.evaluate is None:  # CEMS: E scales with each input's relative deviation
                e = np.full(n, emissions)
                for name, parts in params.items():
                    e = e * drawn[name] / sum(a for a, _, _ in parts)
            else:
                e = arithmetic.evaluate(drawn)
            total += sgn * e
        out[start : start + n] = total
    out.sort()
    interval = coverage_interval(out)
    return MonteCarlo(draws, interval.half_width)
