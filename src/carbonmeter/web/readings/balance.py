"""计量网络平衡 (metering-network balance, issue 6.3.1) of one organization and year: the service the page and
the API call.

This module only fetches: the tree from the register (``Instrument.parent``), each meter's monthly totals
from the data ledger (:func:`carbonmeter.web.readings.ledger.totals`, the same numbers the 计量数据台账
shows), each meter's relative standard uncertainty from its register entry and records, and the pack's
coverage factor. :mod:`carbonmeter.quant.balance` judges.

- **A meter's totals** are those of the measuring points whose data it produces: the points whose data
  profile names it; where none does, the points it is linked to in the register. Several points add up
  (a weighbridge weighing several materials). Quantities are the ledger's amounts (interval values and
  totalizer deltas, in canonical units).
- **A meter's relative standard uncertainty** in a month (contract §6.3 "Standard uncertainty of an
  input"): U/k of the pass record valid at the month's end when it states U (``expanded_uncertainty_percent``
  and ``coverage_factor``, k = 2 when not stated), else MPE/√3 with MPE the instrument's ``mpe_percent``,
  else its class number in % (0.5S → 0.5 %), else, for a measuring system without a stated class, the root
  sum of squares of its components'. None when there is no source: that month is not judged.
- **The networks**: every instrument with sub-meters is a main meter; its network is judged per quantity its
  meters have totals for.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from carbonmeter.core.accuracy import parse_class
from carbonmeter.quant.balance import Balance, Meter, NetworkError, judge, networks
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.readings import ledger
from carbonmeter.web.readings.models import PointProfile
from carbonmeter.web.registry.models import Instrument, Organization

#: The coverage factor of a certificate that states U without k (contract §6.3: ``None`` → 2).
CERTIFICATE_K = 2.0


@dataclass(frozen=True)
class MeterInfo:
    """A meter as the page names it, with the points its totals come from."""

    code: str
    name: str
    points: tuple[str, ...]


@dataclass(frozen=True)
class MonthBalance:
    """One month of one network: the judgement and, when significant, the meter named for it."""

    month: date
    balance: Balance
    suspect: MeterInfo | None = None

    @property
    def imbalance_pct(self) -> float | None:
        rel = self.balance.imbalance_rel
        return None if rel is None else rel * 100

    @property
    def suspect_z(self) -> float | None:
        """How many of its own standard uncertainties the named meter's reading is off by, if it alone is."""
        if self.suspect is None:
            return None
        return next((s.z for s in self.balance.suspects if s.id == self.suspect.code), None)


@dataclass(frozen=True)
class Network:
    """One main meter, its direct sub-meters, the quantity balanced and the twelve months."""

    main: MeterInfo
    subs: tuple[MeterInfo, ...]
    level: int
    quantity: str
    unit: str
    months: list[MonthBalance]
    #: Each meter's relative standard uncertainty (fraction) in the last month judged, for the tree.
    u_rel: dict[str, float | None] = field(default_factory=dict)

    @property
    def significant_months(self) -> list[MonthBalance]:
        return [m for m in self.months if m.balance.significant]

    @property
    def tree(self) -> list[tuple[str, MeterInfo, float | None]]:
        """``(role, meter, u_rel in %)``, the main meter first (role ``main`` or ``sub``)."""
        return [
            (
                "main" if m is self.main else "sub",
                m,
                None if self.u_rel.get(m.code) is None else 100 * (self.u_rel[m.code] or 0.0),
            )
            for m in (self.main, *self.subs)
        ]


@dataclass(frozen=True)
class Report:
    """The organization's networks for one year; ``error`` is set (and ``networks`` empty) when the
    register's tree is not one (a cycle), ``k`` is None when the rule pack states no coverage factor."""

    year: int
    k: float | None
    networks: list[Network]
    error: str = ""


def coverage_factor(org: Organization) -> float | None:
    """The organization's rule pack's k of U95 = k·u (None: the pack holds none)."""
    k = load_pack(org.pack_ref).coverage_factor
    return None if k is None or k.value is None else float(k.value)


def instrument_u_rel(inst: Instrument, record: Calibration | None) -> float | None:
    """The relative standard uncertainty of ``inst`` given the pass record valid then (module docstring)."""
    if record is not None:
        expanded = _stated(record, "expanded_uncertainty_percent")
        if expanded is not None:
            k = _stated(record, "coverage_factor") or CERTIFICATE_K
            return expanded / 100.0 / k
    mpe = _mpe_percent(inst)
    return None if mpe is None else mpe / 100.0 / math.sqrt(3.0)


def _stated(record: Calibration, name: str) -> float | None:
    """A certificate's U or k: the model field where the register has it, else the imported ``extra``."""
    value = getattr(record, name, None)
    if value is None:
        value = (record.extra or {}).get(name)
    try:
        number = float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and math.isfinite(number) and number > 0 else None


def _mpe_percent(inst: Instrument) -> float | None:
    if inst.mpe_percent is not None:
        return abs(inst.mpe_percent)
    if inst.accuracy_class:
        parsed = parse_class(inst.accuracy_class)
        return parsed.relative_percent if parsed is not None else None
    parts: list[float] = []
    components = [c for c in inst.component_set.all() if not c.archived]
    for c in components:
        if c.mpe_percent is not None:
            parts.append(abs(c.mpe_percent))
            continue
        parsed = parse_class(c.accuracy_class) if c.accuracy_class else None
        if parsed is None or parsed.relative_percent is None:
            return None
        parts.append(parsed.relative_percent)
    return math.sqrt(sum(p * p for p in parts)) if parts else None


def _valid_record(records: Sequence[Calibration], day: date) -> Calibration | None:
    """The newest pass record dated on or before ``day`` and valid on it."""
    valid = [
        r
        for r in records
        if r.result == "pass" and r.date <= day and (r.valid_until is None or r.valid_until >= day)
    ]
    return max(valid, key=lambda r: (r.date, r.pk), default=None)


def _series_points(meters: Iterable[Instrument]) -> dict[str, tuple[str, ...]]:
    """Per meter code, the points whose totals are the meter's (module docstring)."""
    meters = list(meters)
    profiled: dict[int, list[str]] = defaultdict(list)
    for inst_id, code in PointProfile.objects.filter(
        instrument__in=meters, archived=False, point__archived=False
    ).values_list("instrument_id", "point__code"):
        profiled[inst_id].append(code)
    out = {}
    for m in meters:
        codes = profiled.get(m.pk) or [p.code for p in m.points.all() if not p.archived]
        out[m.code] = tuple(sorted(set(codes)))
    return out


def year_balance(org: Organization, year: int, con: Any | None = None) -> Report:
    """The metering-network balance of ``org`` for every month of ``year`` (module docstring)."""
    k = coverage_factor(org)
    instruments = list(
        Instrument.objects.filter(organization=org, archived=False)
        .filter(_in_network())
        .distinct()
        .prefetch_related("points", "component_set")
        .order_by("code")
    )
    by_pk = {i.pk: i for i in instruments}
    parent_of = {i.code: (by_pk[i.parent_id].code if i.parent_id in by_pk else None) for i in instruments}
    try:
        nodes = networks(parent_of, order=[i.code for i in instruments])
    except NetworkError as exc:
        return Report(year, k, [], error=str(exc))
    if not nodes:
        return Report(year, k, [])
    by_code = {i.code: i for i in instruments}
    points = _series_points(instruments)
    months = [date(year, m, 1) for m in range(1, 13)]
    wanted = sorted({p for codes in points.values() for p in codes})
    rows = (
        ledger.totals(org, period="month", start=months[0], end=date(year + 1, 1, 1), points=wanted, con=con)
        if wanted
        else []
    )
    point_totals: dict[tuple[str, str, date], float] = {}
    for r in rows:
        start, value = r.get("period_start"), r.get("total")
        if isinstance(start, date) and value is not None and not math.isnan(float(value)):
            point_totals[(str(r["point"]), str(r["quantity"]), start)] = float(value)
    quantities_of: dict[str, set[str]] = defaultdict(set)
    point_quantities: dict[str, set[str]] = defaultdict(set)
    for point, quantity, _month in point_totals:
        point_quantities[point].add(quantity)
    for code, codes in points.items():
        for p in codes:
            quantities_of[code] |= point_quantities.get(p, set())

    def total(meter: str, quantity: str, month: date) -> float | None:
        values = [point_totals.get((p, quantity, month)) for p in points[meter]]
        present = [v for v in values if v is not None]
        return sum(present) if present else None

    records: dict[int, list[Calibration]] = defaultdict(list)
    for rec in Calibration.objects.filter(instrument__in=instruments, archived=False):
        records[rec.instrument_id].append(rec)
    month_ends = [ledger.month_end(m) for m in months]  # the day after the month: its last day is − 1

    def u_rel(meter: str, index: int) -> float | None:
        inst = by_code[meter]
        last_day = date.fromordinal(month_ends[index].toordinal() - 1)
        return instrument_u_rel(inst, _valid_record(records[inst.pk], last_day))

    out: list[Network] = []
    for node in nodes:
        members = [node.main, *node.subs]
        quantities = sorted(quantities_of[node.main] or set().union(*(quantities_of[s] for s in node.subs)))
        for quantity in quantities or [""]:
            month_rows = []
            last_u: dict[str, float | None] = {}
            for i, month in enumerate(months):
                u = {m: u_rel(m, i) for m in members}
                meters = [Meter(m, total(m, quantity, month) if quantity else None, u[m]) for m in members]
                balance = _no_k(meters) if k is None else judge(meters[0], meters[1:], k)
                named = balance.suspect
                month_rows.append(
                    MonthBalance(month, balance, _info(by_code[named], points) if named else None)
                )
                if balance.not_judged is None or not last_u:
                    last_u = u
            out.append(
                Network(
                    main=_info(by_code[node.main], points),
                    subs=tuple(_info(by_code[s], points) for s in node.subs),
                    level=node.level,
                    quantity=quantity,
                    unit=ledger.unit_of(quantity) if quantity else "",
                    months=month_rows,
                    u_rel=last_u,
                )
            )
    return Report(year, k, out)


def _no_k(meters: Sequence[Meter]) -> Balance:
    """Without the pack's k the imbalance is shown but not judged (the page says why)."""
    unjudged = [Meter(m.id, m.total, None) for m in meters]
    return judge(unjudged[0], unjudged[1:], 1.0)


def _info(inst: Instrument, points: Mapping[str, tuple[str, ...]]) -> MeterInfo:
    return MeterInfo(inst.code, inst.name, points.get(inst.code, ()))


def _in_network() -> Any:
    """Instruments that are in a network: those with a main meter and those with sub-meters."""
    from django.db.models import Q

    return Q(parent__isnull=False) | Q(sub_meters__isnull=False, sub_meters__archived=False)
