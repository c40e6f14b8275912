"""One truth about an instrument: the ORM annotation of the register equals the core's rule.

The property runs on the database the suite runs on (SQLite by default, PostgreSQL with ``DATABASE_URL``),
so CI proves it on both.  Each example writes random calibration histories for a handful of instruments —
passes and failures, dated before and after today, with and without ``valid_until``, several on one day —
and compares :func:`with_state` (SQL) with :func:`standing` (:func:`carbonmeter.core.traceability.trace`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonmeter.core.snapshot import Calibration as CoreCalibration
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry.models import Instrument, Organization
from carbonmeter.web.registry.validity import (
    band_of,
    band_q,
    bands,
    label_state,
    restriction,
    standing,
    with_state,
)
from tests.builders import AS_OF
from tests.core.strategies import histories

N_INSTRUMENTS = 5


class _Rollback(Exception):
    pass


def _rows(inst: Instrument, records: list[CoreCalibration]) -> list[Calibration]:
    return [
        Calibration(
            instrument=inst, kind=r.kind, date=r.date, valid_until=r.valid_until, result=r.result, extra={}
        )
        for r in records
    ]


@pytest.mark.django_db(transaction=False)
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(histories(), min_size=N_INSTRUMENTS, max_size=N_INSTRUMENTS),
    st.sampled_from([None, 0, 30, 45]),
    st.booleans(),
)
def test_the_annotation_equals_the_core(
    org_b: Organization, plans: list[list[CoreCalibration]], horizon: int | None, archived_noise: bool
) -> None:
    instruments = list(Instrument.objects.filter(organization=org_b).order_by("code")[:N_INSTRUMENTS])
    assert len(instruments) == N_INSTRUMENTS
    try:
        with transaction.atomic():
            Calibration.objects.filter(instrument__in=instruments).delete()
            rows = [row for inst, plan in zip(instruments, plans, strict=True) for row in _rows(inst, plan)]
            # bulk_create skips full_clean: a pass without valid_until is what an old import could leave.
            Calibration.objects.bulk_create(rows)
            if archived_noise:
                # An archived record never counts, whatever it says.
                Calibration.objects.bulk_create(
                    [
                        Calibration(
                            instrument=inst,
                            kind="verification",
                            date=AS_OF - timedelta(days=1),
                            valid_until=AS_OF + timedelta(days=400),
                            result="pass",
                            archived=True,
                            extra={},
                        )
                        for inst in instruments
                    ]
                )
            pks = [i.pk for i in instruments]

            def of(qs: Any) -> Any:
                return with_state(qs.filter(pk__in=pks), AS_OF, horizon)

            annotated = {i.pk: i for i in of(Instrument.objects.all())}
            live: dict[int, list[Calibration]] = {pk: [] for pk in pks}
            for row in Calibration.objects.filter(instrument__in=pks, archived=False):
                live[row.instrument_id].append(row)
            wanted = {pk: standing(live[pk], AS_OF, horizon) for pk in pks}
            for pk, want in wanted.items():
                got: Any = annotated[pk]
                assert (got.state, got.valid_until, got.traceable) == (
                    want.state,
                    want.valid_until,
                    want.traceable,
                )
                if want.record is not None:
                    assert got.trace_date == want.record.date
            # Every state filter and every display band finds exactly the instruments in it.
            for value in {w.state for w in wanted.values()}:
                found = set(of(Instrument.objects.all()).filter(state=value).values_list("pk", flat=True))
                assert found == {pk for pk, w in wanted.items() if w.state == value}
            for key, _lo, _hi in bands():
                q = band_q(key, AS_OF)
                assert q is not None
                found = set(of(Instrument.objects.all()).filter(q).values_list("pk", flat=True))
                assert found == {
                    pk for pk, w in wanted.items() if w.traceable and band_of(w.valid_until, AS_OF) == key
                }
            raise _Rollback
    except _Rollback:
        pass


@pytest.mark.django_db
def test_per_organization_horizons_are_applied_per_row(org_a: Organization, org_b: Organization) -> None:
    """The API lists several organizations: each instrument is due soon by its own organization's pack."""
    ia = Instrument.objects.filter(organization=org_a).order_by("code").first()
    ib = Instrument.objects.filter(organization=org_b).order_by("code").first()
    assert ia is not None and ib is not None
    Calibration.objects.filter(instrument__in=[ia, ib]).delete()
    for inst in (ia, ib):
        Calibration(
            instrument=inst,
            kind="verification",
            date=AS_OF,
            valid_until=AS_OF + timedelta(days=40),
            result="pass",
        ).save()
    qs = with_state(Instrument.objects.filter(pk__in=[ia.pk, ib.pk]), AS_OF, {org_a.pk: 45, org_b.pk: 30})
    assert {i.pk: i.state for i in qs} == {ia.pk: "due_soon", ib.pk: "valid"}


@pytest.mark.parametrize(
    ("status", "state", "accuracy_ok", "label"),
    [
        ("in_use", "valid", True, "qualified"),
        ("in_use", "due_soon", None, "qualified"),
        ("in_use", "valid", False, "limited"),
        ("in_use", "expired", True, "stopped"),
        ("in_use", "failed", True, "stopped"),
        ("in_use", "never", None, "stopped"),
        ("in_use", "never", True, "stopped"),
        ("standby", "valid", True, "stopped"),
        ("stopped", "valid", True, "stopped"),
        ("sealed", "valid", True, "stopped"),
        ("scrapped", "valid", True, "stopped"),
    ],
)
def test_label_state_is_derived_from_the_state(
    status: str, state: str, accuracy_ok: bool | None, label: str
) -> None:
    assert label_state(status, state, accuracy_ok) == label


@pytest.mark.parametrize(
    ("status", "state", "accuracy_ok", "restricted", "label"),
    [
        ("in_use", "valid", True, "0–50 t/h", "limited"),  # confirmed for a restricted range
        ("in_use", "due_soon", None, "0-50 t/h", "limited"),
        ("in_use", "valid", False, "0–50 t/h", "limited"),
        ("in_use", "valid", True, "   ", "qualified"),  # blank is no restriction
        ("in_use", "expired", True, "0–50 t/h", "stopped"),  # not traceable: a restriction changes nothing
        ("in_use", "failed", None, "0–50 t/h", "stopped"),
        ("standby", "valid", True, "0–50 t/h", "stopped"),
    ],
)
def test_a_restricted_range_makes_a_traceable_instrument_restricted_use(
    status: str, state: str, accuracy_ok: bool | None, restricted: str, label: str
) -> None:
    assert label_state(status, state, accuracy_ok, restricted) == label


def test_the_restriction_is_the_one_of_the_record_that_makes_it_traceable(org_a: Organization) -> None:
    """A later unrestricted pass lifts an earlier restriction; a restricted pass that has expired says
    nothing today."""
    inst = Instrument.objects.filter(organization=org_a).first()
    assert inst is not None

    def record(on: date, until: date, restricted: str = "") -> Calibration:
        return Calibration(
            instrument=inst,
            kind="calibration",
            date=on,
            valid_until=until,
            result="pass",
            restricted_range=restricted,
        )

    restricted = record(AS_OF - timedelta(days=30), AS_OF + timedelta(days=300), "0–50 t/h")
    assert restriction(standing([restricted], AS_OF, 30)) == "0–50 t/h"
    later = record(AS_OF - timedelta(days=5), AS_OF + timedelta(days=360))
    assert restriction(standing([restricted, later], AS_OF, 30)) == ""
    old = record(AS_OF - timedelta(days=400), AS_OF - timedelta(days=40), "0–50 t/h")
    assert restriction(standing([old], AS_OF, 30)) == ""


def test_bands_come_from_the_setting(settings: Any) -> None:
    settings.CARBONMETER_DUE_BANDS = (15, 45)
    assert bands() == [("within_15", 0, 15), ("within_45", 16, 45)]
    today = date(2026, 1, 1)
    assert band_of(today + timedelta(days=16), today) == "within_45"
    assert band_of(today + timedelta(days=46), today) is None
