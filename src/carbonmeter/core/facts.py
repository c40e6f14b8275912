"""The facts of one plant on one date, established once and read by every validator.

Validators are pure functions of these facts.  Establishing them once (categories, traceability, accuracy,
equipping) keeps each validator a few lines long and the whole assessment linear in the size of the snapshot
— a plant of 20,000 instruments is judged in well under a second.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from carbonmeter.core.accounting import Accounting, accounts
from carbonmeter.core.accuracy import InstrumentAccuracy, RequirementBook, judge_instrument
from carbonmeter.core.classify import StreamClass, classify, total_emissions
from carbonmeter.core.equipping import RowResult, row_results
from carbonmeter.core.need import Need, theoretical_need
from carbonmeter.core.snapshot import Calibration, Instrument, MeasuringPoint, Snapshot, SourceStream
from carbonmeter.core.traceability import Period, Trace, trace, untraceable_in_year
from carbonmeter.rules.schema import Pack


@dataclass(frozen=True)
class Facts:
    snapshot: Snapshot
    pack: Pack
    as_of: date
    streams: dict[str, SourceStream]
    #: Each stream's annual emissions as classification uses them, and the unit's net total.
    emissions: dict[str, float]
    total_t: float
    classes: dict[str, StreamClass]
    points: dict[str, MeasuringPoint]
    instruments: dict[str, Instrument]
    records: dict[str, list[Calibration]]
    #: Instruments linked to each point, in register order.
    linked: dict[str, list[Instrument]]
    #: Row of Table A.1 of every point that is measured (required or exempt).
    point_rows: dict[str, str]
    #: Required points and their rows.
    required: dict[str, str]
    traces: dict[str, Trace[Calibration]]
    accuracy: dict[str, InstrumentAccuracy]
    counted: dict[str, bool]
    equipped: dict[str, bool]
    rows: list[RowResult]
    #: §6.2: the theoretical need (missing parameters, misused defaults, plan-only streams).
    need: Need
    #: §6.3: computed emissions, uncertainty, tiers and the advisor.
    accounting: Accounting
    #: §6.4.5: runs of days of the reporting year each in-use instrument was not traceable (None: not in use).
    untraceable: dict[str, list[Period] | None] = field(default_factory=dict)


def _counted(
    instrument: Instrument, tr: Trace[Calibration], acc: InstrumentAccuracy, accuracy_gates: bool
) -> bool:
    if instrument.status != "in_use" or not tr.traceable:
        return False
    return not (accuracy_gates and acc.passed is False)


def establish(snapshot: Snapshot, pack: Pack, as_of: date) -> Facts:
    """Everything the validators need, computed in one pass over the snapshot.

    Order matters: traceability and accuracy decide which instruments count; the accounting (computed
    emissions, uncertainty) reads them; the categories rest on its emissions; the theoretical need rests on
    the categories.
    """
    streams = {s.id: s for s in snapshot.source_streams}
    points = {p.id: p for p in snapshot.measuring_points}
    instruments = {i.id: i for i in snapshot.instruments}

    records: dict[str, list[Calibration]] = defaultdict(list)
    for rec in snapshot.calibrations:
        records[rec.instrument].append(rec)
    linked: dict[str, list[Instrument]] = {p: [] for p in points}
    for inst in snapshot.instruments:
        for ref in inst.points:
            linked[ref].append(inst)

    traces = {i.id: trace(records.get(i.id, ()), as_of) for i in snapshot.instruments}
    book = RequirementBook(pack.accuracy_requirements)
    accuracy = {
        i.id: judge_instrument(
            i,
            [(ref, points[ref].purpose, points[ref].operating_value) for ref in i.points],
            book,
        )
        for i in snapshot.instruments
    }
    gates = bool(pack.settings.accuracy_affects_equipping.value)
    counted = {i.id: _counted(i, traces[i.id], accuracy[i.id], gates) for i in snapshot.instruments}

    accounting = accounts(snapshot, pack, linked, traces, counted)
    emissions = accounting.emissions()
    classes = classify(snapshot.source_streams, pack.category_thresholds, emissions)
    need = theoretical_need(snapshot, pack, classes)
    required = need.required
    equipped = {
        p: p not in need.missing and p not in need.misused_defaults and any(counted[i.id] for i in linked[p])
        for p in required
    }
    rows = row_results(pack.equipping_rows, required, equipped, snapshot.organization.key_emission_unit)
    return Facts(
        snapshot=snapshot,
        pack=pack,
        as_of=as_of,
        streams=streams,
        emissions=emissions,
        total_t=total_emissions(snapshot.source_streams, emissions),
        classes=classes,
        points=points,
        instruments=instruments,
        records=dict(records),
        linked=linked,
        point_rows=need.point_rows,
        required=required,
        need=need,
        accounting=accounting,
        traces=traces,
        accuracy=accuracy,
        counted=counted,
        equipped=equipped,
        rows=rows,
        untraceable=periods_of(snapshot, records, as_of),
    )


def periods_of(
    snapshot: Snapshot, records: dict[str, list[Calibration]], as_of: date
) -> dict[str, list[Period] | None]:
    """Contract §6.4.5: each in-use instrument's untraceable runs of days in its service window."""
    out: dict[str, list[Period] | None] = {}
    for inst in snapshot.instruments:
        if inst.status != "in_use":
            out[inst.id] = None
            continue
        out[inst.id] = untraceable_in_year(
            records.get(inst.id, ()), snapshot.reporting_year, as_of, inst.in_service_from
        )
    return out
