"""Point-month data quality (计量点数据质量) for the web: fetch the point's configuration, judge, return.

The judgement is :func:`carbonmeter.readings.quality.point_month` (pure: no Django). This module only
reads what it needs from the database — the point's data profile, its recorded counter events, the profile
instrument's calibration records, the stream's carbon-content and CEMS points, the rule pack's CEMS share —
into a :class:`~carbonmeter.readings.quality.PointSetup`, opens the organization's lake
(:class:`carbonmeter.readings.lake.OrgReader`, sandboxed to its folder) and returns the answer with the
rows the page links to (:class:`PointQuality`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from carbonmeter.readings import quality as pure
from carbonmeter.readings.lake import OrgReader
from carbonmeter.readings.model import Kind, quantities
from carbonmeter.readings.quality import DayRow, PointMonth  # DayRow: the page's tests name it from here
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.readings.ledger import max_wrap_fraction
from carbonmeter.web.readings.models import CounterEvent, PointProfile
from carbonmeter.web.registry.models import Instrument, MeasuringPoint, Organization

__all__ = ["DayRow", "PointQuality", "point_month", "reader"]


@dataclass(frozen=True, kw_only=True)
class PointQuality(PointMonth):
    """The judgement with the rows the page shows and links to."""

    organization: Organization
    point: MeasuringPoint
    profile: PointProfile | None
    instrument: Instrument | None = None


@contextmanager
def reader(org: Organization, lake: Path | None = None) -> Iterator[OrgReader]:
    """The lake reader of ``org`` over ``lake`` (default ``settings.CARBONMETER_LAKE``); closes it."""
    with OrgReader(Path(lake if lake is not None else settings.CARBONMETER_LAKE), org.credit_code) as r:
        yield r


def _profile(point: MeasuringPoint) -> PointProfile | None:
    return PointProfile.objects.filter(point=point, archived=False).select_related("instrument").first()


def _records(instrument: Instrument | None) -> tuple[Calibration, ...] | None:
    if instrument is None:
        return None
    return tuple(Calibration.objects.filter(instrument=instrument, archived=False).order_by("date", "pk"))


def _events(point: MeasuringPoint) -> tuple[pure.RecordedEvent, ...]:
    rows = CounterEvent.objects.filter(point=point, archived=False).order_by("ts", "pk")
    return tuple(pure.RecordedEvent(e.ts, e.kind, e.old_end, e.new_start, e.reason) for e in rows)


def _carbon_content_points(point: MeasuringPoint) -> tuple[str, ...]:
    rows = MeasuringPoint.objects.filter(
        organization_id=point.organization_id,
        stream_id=point.stream_id,
        parameter=pure.CARBON_CONTENT,
        archived=False,
    ).order_by("code")
    return tuple(rows.values_list("code", flat=True))


def _valid_fraction(point: MeasuringPoint, profile: PointProfile) -> tuple[float, pure.Provenance]:
    """The share of valid minutes a CEMS hour needs: the point profile's own, else the organization's rule
    pack's ``cems_hour_valid_fraction`` (data with provenance), and where it comes from."""
    if profile.cems_valid_fraction is not None:
        return profile.cems_valid_fraction, pure.Provenance(point=point.code)
    pack = load_pack(point.organization.pack_ref)
    tagged = pack.settings.cems_hour_valid_fraction
    assert tagged.value is not None  # the pack schema requires it
    title = {"zh": pack.title.zh, "en": pack.title.en}
    return float(tagged.value), pure.Provenance(pack_title=title, pack_version=pack.version, tag=tagged.tag)


def _extra(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _cems(point: MeasuringPoint, profile: PointProfile) -> pure.CemsSetup:
    """The stream's CEMS set and where its duct area and CO2 basis may be stated."""
    members = list(
        MeasuringPoint.objects.filter(
            organization_id=point.organization_id, stream_id=point.stream_id, archived=False
        )
        .select_related("data_profile", "stream")
        .order_by("code")
    )

    def quantity(member: MeasuringPoint) -> str:
        p = getattr(member, "data_profile", None)
        return p.quantity if p is not None and not p.archived else member.parameter

    set_points = pure.cems_set((m.code, quantity(m)) for m in members)
    by_code = {m.code: m for m in members}
    sources = [
        pure.ExtraSource(point.code, _extra(point.extra)),
        *(pure.ExtraSource(c, _extra(by_code[c].extra)) for c in set_points.values() if c != point.code),
        pure.ExtraSource(point.stream.code, _extra(point.stream.extra)),
    ]
    fraction, fraction_from = _valid_fraction(point, profile)
    return pure.CemsSetup(set_points, sources, fraction, fraction_from)


def _kind(quantity: str) -> Kind | None:
    q = quantities().get(quantity)
    return None if q is None else q.kind


def setup_of(point: MeasuringPoint, profile: PointProfile) -> pure.PointSetup:
    """What the judgement needs about ``point`` besides its readings, read from the database."""
    return pure.PointSetup(
        code=point.code,
        role=point.role,
        quantity=profile.quantity,
        expected_interval=profile.expected_interval,
        substitution=profile.substitution,
        default_value=profile.default_value,
        default_source=profile.default_source,
        counter_modulus=profile.counter_modulus,
        max_wrap_fraction=max_wrap_fraction(point.organization),
        events=_events(point),
        records=_records(profile.instrument),
        carbon_content_points=_carbon_content_points(point),
        cems=_cems(point, profile) if _kind(profile.quantity) == Kind.CEMS else None,
    )


def point_month(
    organization: Organization,
    point: MeasuringPoint,
    month: dt.date,
    *,
    lake: Path | None = None,
    now: dt.datetime | None = None,
) -> PointQuality:
    """Data quality of ``point`` (of ``organization``) for the Asia/Shanghai month starting ``month``.

    The caller has checked that the user may read the organization; ``point`` must belong to it.
    """
    if point.organization_id != organization.pk:
        raise ValueError(f"point {point.code} does not belong to {organization.credit_code}")
    profile = _profile(point)
    setup = setup_of(point, profile) if profile is not None else None
    with reader(organization, lake) as lake_reader:
        result = pure.point_month(setup, month, lake_reader, now=now or timezone.now())
    return PointQuality(
        organization=organization,
        point=point,
        profile=profile,
        instrument=profile.instrument if profile is not None else None,
        **{f.name: getattr(result, f.name) for f in fields(result)},
    )
