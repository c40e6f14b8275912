"""Shared values of the pure reading engines: a sample, a time span, Asia/Shanghai calendar periods.

The engines (``counters``, ``gaps``, ``substitution``, ``cems``, ``validity``) take and give these plain
values, so the Django shell, an Ibis layer or a test can drive them from ordinary Python lists:
:func:`samples` turns ``(ts, value)`` pairs or ``{"ts": …, "value": …}`` mappings into :class:`Sample`
values, and :func:`as_rows` turns any engine output back into dicts.

Instants are tz-aware; the contract stores them in UTC.  Days, months and years are **Asia/Shanghai**
calendar periods (``docs/specs/readings.md`` *Time*), so a reading at 23:30 UTC on 31 January belongs to
1 February.  A timestamp without an offset is read as Asia/Shanghai, as the ingest does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Struct

LOCAL = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC

Period = Literal["day", "month", "year"]
PERIODS: tuple[Period, ...] = ("day", "month", "year")


def _require_aware(ts: dt.datetime, what: str) -> None:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"{what} {ts.isoformat()} has no time zone; pass a tz-aware datetime (UTC)")


class Sample(Struct, frozen=True, gc=False):
    """One observation of one point: a tz-aware instant and a value in the quantity's canonical unit."""

    ts: dt.datetime
    value: float

    def __post_init__(self) -> None:
        _require_aware(self.ts, "sample ts")


class Span(Struct, frozen=True, gc=False):
    """A half-open time span ``[start, end)``; both ends tz-aware."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        _require_aware(self.start, "span start")
        _require_aware(self.end, "span end")
        if self.end < self.start:
            raise ValueError(
                f"span ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})"
            )

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def contains(self, ts: dt.datetime) -> bool:
        return self.start <= ts < self.end


def instant(value: dt.datetime | str) -> dt.datetime:
    """A UTC instant from a datetime or ISO-8601 text; no offset means Asia/Shanghai (contract *Time*)."""
    ts = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=LOCAL)
    return ts.astimezone(UTC)


def period_key(ts: dt.datetime, period: Period) -> dt.date:
    """The Asia/Shanghai calendar period an instant falls in, named by the period's first local day."""
    _require_aware(ts, "ts")
    day = ts.astimezone(LOCAL).date()
    if period == "day":
        return day
    if period == "month":
        return day.replace(day=1)
    if period == "year":
        return day.replace(month=1, day=1)
    raise ValueError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")


def _next_key(key: dt.date, period: Period) -> dt.date:
    if period == "day":
        return key + dt.timedelta(days=1)
    if period == "month":
        return dt.date(key.year + key.month // 12, key.month % 12 + 1, 1)
    return dt.date(key.year + 1, 1, 1)


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=LOCAL).astimezone(UTC)


@lru_cache(maxsize=4096)
def period_span(key: dt.date, period: Period) -> Span:
    """The UTC span ``[start, end)`` of the Asia/Shanghai period that starts on local day ``key``.

    ``key`` is normalised to its period's first day, so ``period_span(date(2025, 3, 17), "month")`` is March.
    """
    first = period_key(_local_midnight(key), period)
    return Span(_local_midnight(first), _local_midnight(_next_key(first, period)))


def periods_over(span: Span, period: Period) -> Iterator[tuple[dt.date, Span]]:
    """Every period that overlaps ``span``, with the part of ``span`` inside it (in time order).

    A zero-length span yields the one period its instant falls in, so nothing falls between periods.
    """
    key = period_key(span.start, period)
    while True:
        whole = period_span(key, period)
        yield key, Span(max(whole.start, span.start), min(whole.end, span.end))
        if whole.end >= span.end:
            return
        key = _next_key(key, period)


Row = tuple[dt.datetime | str, float] | Mapping[str, Any]


def samples(rows: Iterable[Row]) -> list[Sample]:
    """Samples from plain rows, sorted by time: ``(ts, value)`` pairs or mappings with ``ts`` and ``value``.

    ``ts`` may be a datetime or ISO-8601 text (no offset = Asia/Shanghai); values become floats.  Sorting is
    stable, so rows with equal instants keep their order (the engines report them, never drop them).
    """
    out: list[Sample] = []
    for row in rows:
        ts, value = (row["ts"], row["value"]) if isinstance(row, Mapping) else row
        out.append(Sample(instant(ts), float(value)))
    out.sort(key=lambda s: s.ts)
    return out


def as_rows(items: Iterable[Struct]) -> list[dict[str, Any]]:
    """Engine output as plain dicts (nested values too), keeping datetimes and dates as Python objects."""
    return [
        msgspec.to_builtins(item, builtin_types=(dt.datetime, dt.date), order="deterministic")
        for item in items
    ]
