"""Annual point values of an organization from its ledger, for the snapshot (contract v1.1 §6.1).

The arithmetic is :mod:`carbonmeter.readings.values` (pure); this module only reads what it needs from the
database — the data profiles, counter events, the rule pack's wrap share, the points' streams and roles — and
the organization's lake, and returns one :class:`~carbonmeter.readings.values.PointValue` per point with
readings in the year:

* activity points (interval and totalizer quantities): the ledger's monthly totals (one query); the months
  the ledger shows short of their expected readings are judged as the point-month quality page judges them
  (:func:`carbonmeter.readings.quality.point_month`), and what the profile's substitution rule put in their
  gaps is added;
* laboratory points: their analyses of the year, weighted by the stream's monthly activity (the stream's
  activity points of the first one's unit);
* the CEMS CO2 point of a stack: the year's hours of its CEMS set.

:func:`with_point_values` is the snapshot's hook: it fills ``value``, ``unit``, ``availability`` and
``substituted_share`` of the document's points that have readings in its ``reporting_year``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from django.utils import timezone

from carbonmeter.readings import quality as pure
from carbonmeter.readings import values as core
from carbonmeter.readings.model import Kind, quantities
from carbonmeter.readings.series import period_span
from carbonmeter.readings.values import ActivityProfile, MonthAmount, PointValue
from carbonmeter.web.readings import ledger
from carbonmeter.web.readings.models import PointProfile
from carbonmeter.web.readings.quality import reader, setup_of
from carbonmeter.web.registry.models import Organization

__all__ = ["PointValue", "point_values", "with_point_values"]

#: The snapshot keys this module fills on a point with readings.
FILLED = ("value", "unit", "availability", "substituted_share")


def _has_year(org: Organization, year: int, lake: Path | None) -> bool:
    """Whether the lake holds a partition of ``org`` in ``year``: without one there is nothing to read, and
    the snapshot of an organization without metering data pays nothing for this."""
    root = lake if lake is not None else ledger.lake_root()
    return (root / f"org={org.credit_code}" / f"y={year:04d}").is_dir()


def _connect(lake: Path | None) -> Any:
    """DuckDB on one thread: a parallel sum adds the floats in a varying order, and the same readings must
    give the same snapshot to the last digit (a re-run is not a change)."""
    from carbonmeter.readings import engines

    return engines.duckdb_backend(lake or ledger.lake_root(), threads=1)


def _kind(quantity: str) -> Kind | None:
    q = quantities().get(quantity)
    return None if q is None else q.kind


def point_values(
    org: Organization,
    year: int,
    *,
    lake: Path | None = None,
    con: Any | None = None,
    now: dt.datetime | None = None,
) -> dict[str, PointValue]:
    """Point code → annual value of ``year`` for ``org``'s points with readings in it (see the module
    docstring). Points without a data profile, or without readings in the year, are not in the result."""
    if not _has_year(org, year, lake):
        return {}
    profiles = list(
        PointProfile.objects.filter(organization=org, archived=False, point__archived=False).select_related(
            "point", "point__stream", "point__organization", "instrument"
        )
    )
    if not profiles:
        return {}
    now = now if now is not None else timezone.now()
    by_code = {p.point.code: p for p in profiles}
    activity = {
        code: ActivityProfile(
            unit=quantities()[p.quantity].unit,
            expected_interval=p.expected_interval,
            totalizer=_kind(p.quantity) == Kind.TOTAL,
            counter_modulus=p.counter_modulus,
        )
        for code, p in by_code.items()
        if _kind(p.quantity) in (Kind.INTERVAL, Kind.TOTAL)
    }
    out: dict[str, PointValue] = {}
    months: dict[str, list[MonthAmount]] = {}
    with reader(org, lake) as lake_reader:
        if activity:
            side = ledger.side_tables(org)
            rows = core.ledger_rows(
                con if con is not None else _connect(lake),
                org=org.credit_code,
                year=year,
                profiles=activity,
                events=[e for e in side["events"] if e["point"] in activity],
                max_wrap_fraction=ledger.max_wrap_fraction(org),
            )
            substituted: dict[tuple[str, dt.date], float] = {}
            for code, month in core.gap_months(rows, activity, year=year):
                profile = by_code[code]
                if _kind(profile.quantity) != Kind.INTERVAL or profile.substitution in ("", "none"):
                    continue
                judged = pure.point_month(setup_of(profile.point, profile), month, lake_reader, now=now)
                if judged.totals is not None and judged.totals.substituted:
                    substituted[(code, month)] = judged.totals.substituted
            months = core.point_months(rows, year=year, substituted=substituted)
            out |= core.annual_activity(months, activity, year=year)

        year_span = period_span(dt.date(year, 1, 1), "year")
        weights = _stream_weights(by_code, months)
        for code, p in sorted(by_code.items()):
            kind = _kind(p.quantity)
            if kind == Kind.LAB:
                analyses = lake_reader.effective(code, p.quantity, year_span).samples
                weight = weights.get(p.point.stream.code, {})
                unit = quantities()[p.quantity].unit
                value = core.factor_value(code, analyses, weight, year=year, unit=unit)
            elif kind == Kind.CEMS and p.quantity == "co2_concentration":
                setup = setup_of(p.point, p).cems
                if setup is None or setup.set_points.get("co2_concentration") != code:
                    continue
                # Month by month: a year of minute records of five points would be 2.6 M objects at once.
                hours = [
                    h
                    for m in range(1, 13)
                    for h in pure.cems_summary(
                        setup, lake_reader, period_span(dt.date(year, m, 1), "month")
                    ).hours
                ]
                value = core.cems_value(code, hours, year=year)
            else:
                continue
            if value is not None:
                out[code] = value
    return out


def _stream_weights(
    by_code: Mapping[str, PointProfile], months: Mapping[str, Sequence[MonthAmount]]
) -> dict[str, dict[dt.date, float]]:
    """Stream code → its monthly activity: its activity points' months (those of the first such point's
    unit, in code order: tonnes and cubic metres do not add up)."""
    members: dict[str, list[str]] = defaultdict(list)
    for code, p in sorted(by_code.items()):
        if p.point.role == "activity_data" and code in months:
            members[p.point.stream.code].append(code)
    out = {}
    for stream, codes in members.items():
        unit = quantities()[by_code[codes[0]].quantity].unit
        same = [months[c] for c in codes if quantities()[by_code[c].quantity].unit == unit]
        out[stream] = core.stream_activity(same)
    return out


def with_point_values(org: Organization, document: dict[str, Any]) -> dict[str, Any]:
    """The snapshot ``document`` with ``value``, ``unit``, ``availability`` and ``substituted_share`` of each
    point that has readings in the document's ``reporting_year`` and no annual value of its own taken from
    them. A value the plant recorded for the point (typed in, imported) is kept: a ledger that holds part of
    the year (the demo holds one month) must not replace an annual figure by a month's sum."""
    year = document.get("reporting_year")
    if not isinstance(year, int):
        return document
    found = point_values(org, year)
    for point in document.get("measuring_points", []):
        value = found.get(str(point.get("id")))
        if value is None or value.value < 0 or point.get("value") is not None:
            continue
        point["value"] = value.value
        point["unit"] = value.unit
        point["availability"] = value.availability
        point["substituted_share"] = value.substituted_share
        if value.availability is None:
            del point["availability"]
    return document
