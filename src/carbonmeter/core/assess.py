"""``assess(snapshot, pack, as_of)``: the whole verdict on one plant, clause by clause (contract §5).

Pure: no clock, no files, no database.  The CLI on a file and the web app on its database both call this,
so they give the same verdict by construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from carbonmeter.core.accounting import Accounting, MonteCarlo, monte_carlo
from carbonmeter.core.accuracy import InstrumentAccuracy
from carbonmeter.core.classify import StreamClass
from carbonmeter.core.equipping import FacilityRow, RowResult, facility_results
from carbonmeter.core.facts import Facts, establish
from carbonmeter.core.findings import Finding, NotJudged
from carbonmeter.core.need import Need
from carbonmeter.core.root_cause import attach_root_causes
from carbonmeter.core.snapshot import Calibration, Snapshot
from carbonmeter.core.traceability import Period, Trace
from carbonmeter.core.validators import REGISTRY
from carbonmeter.rules.schema import Pack


class InstrumentVerdict(NamedTuple):
    id: str
    trace: Trace[Calibration]
    counted: bool
    accuracy: InstrumentAccuracy
    #: §6.4.5: the runs of days of the reporting year it was not traceable (None: not in use at as_of).
    untraceable_periods: tuple[Period, ...] | None = None


@dataclass(frozen=True)
class Assessment:
    pack: Pack
    as_of: date
    total_emissions_t: float
    streams: tuple[StreamClass, ...]
    rows: tuple[RowResult, ...]
    instruments: tuple[InstrumentVerdict, ...]
    findings: tuple[Finding, ...]
    #: §6.4.3: what the engine could not judge (a requirement not loaded, an input without uncertainty).
    not_judged: tuple[NotJudged, ...] = ()
    #: §6.2–6.3: the theoretical need, computed emissions, uncertainty, tiers and advisor.
    need: Need | None = None
    accounting: Accounting | None = None
    monte_carlo: MonteCarlo | None = None
    #: §6.4.6: every Table A.1 row restricted to each facility's streams (empty without facilities).
    by_facility: tuple[FacilityRow, ...] = ()

    @property
    def conforms(self) -> bool:
        return not any(f.severity == "nonconformity" for f in self.findings)


def run_validators(facts: Facts) -> list[Finding]:
    """Every registered validator's findings, in registry order."""
    findings: list[Finding] = []
    for module in REGISTRY:
        findings.extend(module.check(facts))
    return findings


def _served_streams(facts: Facts) -> dict[str, set[str]]:
    """The streams each point, missing parameter and instrument serves (for tonnes at stake)."""
    served: dict[str, set[str]] = {p.id: {p.stream} for p in facts.snapshot.measuring_points}
    served.update({subject: {m.stream} for subject, m in facts.need.missing.items()})
    for inst in facts.snapshot.instruments:
        if inst.points:
            served[inst.id] = {facts.points[ref].stream for ref in inst.points}
    return served


def at_stake(facts: Facts, findings: list[Finding]) -> list[Finding]:
    """Contract §6.3: a finding about a point, or an instrument linked to points, carries the annual
    emissions of the streams it serves."""
    served = _served_streams(facts)
    emissions = facts.accounting.emissions()
    for f in findings:
        streams = served.get(f.subject)
        if streams:
            f.tonnes_at_stake = math.fsum(emissions[s] for s in sorted(streams))
    return findings


def _periods(periods: list[Period] | None) -> tuple[Period, ...] | None:
    return None if periods is None else tuple(periods)


def run_not_judged(facts: Facts) -> list[NotJudged]:
    """What the validators could not judge (contract §6.4.3), in registry order."""
    items: list[NotJudged] = []
    for module in REGISTRY:
        if hasattr(module, "not_judged"):
            items.extend(module.not_judged(facts))
    return items


def assess(
    snapshot: Snapshot, pack: Pack, as_of: date | None = None, monte_carlo_draws: int | None = None
) -> Assessment:
    """Judge ``snapshot`` against ``pack`` at ``as_of`` (default: the snapshot's own date); with
    ``monte_carlo_draws``, check the plant total's U95 by a JCGM 101 simulation of that many draws."""
    facts = establish(snapshot, pack, as_of or snapshot.as_of)
    mc = monte_carlo(snapshot, facts.accounting, monte_carlo_draws) if monte_carlo_draws else None
    return Assessment(
        pack=pack,
        as_of=facts.as_of,
        total_emissions_t=facts.total_t,
        streams=tuple(facts.classes[s.id] for s in snapshot.source_streams),
        rows=tuple(facts.rows),
        instruments=tuple(
            InstrumentVerdict(
                i.id,
                facts.traces[i.id],
                facts.counted[i.id],
                facts.accuracy[i.id],
                _periods(facts.untraceable.get(i.id)),
            )
            for i in snapshot.instruments
        ),
        findings=tuple(at_stake(facts, attach_root_causes(facts, run_validators(facts)))),
        not_judged=(*run_not_judged(facts), *facts.accounting.not_judged),
        need=facts.need,
        accounting=facts.accounting,
        monte_carlo=mc,
        by_facility=tuple(
            facility_results(
                [f.id for f in snapshot.facilities],
                {s.id: s.facility for s in snapshot.source_streams},
                {p.id: p.stream for p in snapshot.measuring_points}
                | {subject: m.stream for subject, m in facts.need.missing.items()},
                pack.equipping_rows,
                facts.required,
                facts.equipped,
                snapshot.organization.key_emission_unit,
            )
        ),
    )
