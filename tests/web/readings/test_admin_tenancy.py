"""Tenancy of the metering-data models, in the scope and in the admin, walked model by model like
``tests/web/test_tenancy.py`` does for the registry: no role reaches another organization's profiles,
counter events, runs, quarantined rows, batches or batch files; verifiers and regulators read only; and the
links of the chain (runs, batches, files, quarantined rows) cannot be added, changed or deleted in the admin
by anyone, superusers included.

Rows of the chain are made the only way they can be: through ``services.ingest``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalChanges

from carbonmeter.web.accounts.scope import scope_for
from carbonmeter.web.admin_scoping import ScopedAdmin
from carbonmeter.web.readings import services
from carbonmeter.web.readings.models import (
    AppendOnly,
    ArchivedPartition,
    BatchFile,
    CounterEvent,
    IngestRun,
    PointProfile,
    QuarantinedRow,
    ReadingBatch,
)
from carbonmeter.web.registry.models import Instrument, MeasuringPoint, Organization

COAL = "P01.1"
METER = "P22.1"


def readings_models() -> list[type[Model]]:
    return [m for m in apps.get_app_config("readings").get_models() if not issubclass(m, HistoricalChanges)]


def label(model: type[Model]) -> str:
    return model._meta.label


#: The chain and what the ledger commands record: read-only in the admin for everyone.
CHAIN = (IngestRun, QuarantinedRow, ReadingBatch, BatchFile, ArchivedPartition)


def _saved(row: Any) -> Any:
    row._change_reason = "test row"
    row.save()
    return row


def data_of(org: Organization, users: dict[str, Any], archive: Path) -> dict[type[Model], set[int]]:
    """One row of every readings model in ``org``: a profile, an event, an ingest with one bad row and an
    archived month."""
    point = MeasuringPoint.objects.get(organization=org, code=COAL)
    _saved(
        PointProfile(
            organization=org,
            point=point,
            quantity="consumption_mass",
            expected_interval=3600,
            min_value=0,
            max_value=100,
        )
    )
    meter = MeasuringPoint.objects.filter(organization=org, code=METER).first() or point
    _saved(
        CounterEvent(
            organization=org,
            point=meter,
            ts=timezone.make_aware(datetime(2025, 4, 1, 2, 0)),
            kind="reset",
            old_end=100.0,
            new_start=0.0,
            reason="测试",
        )
    )
    services.ingest(
        org,
        source="api",
        rows=[
            {"point": COAL, "ts": "2025-01-01 00:00", "value": 1.0, "unit": "t"},
            {"point": COAL, "ts": "2025-01-01 01:00", "value": "x"},
        ],
        user=users["clerk_a"],
    )
    # A month old enough to be archived (retention), exported to a folder of its own.
    services.ingest(org, source="api", rows=[{"point": COAL, "ts": "2015-01-01 00:00", "value": 1.0}])
    services.archive((2016, 1), archive, user=users["admin_a"])
    out: dict[type[Model], set[int]] = {}
    for model in readings_models():
        path: str = model.org_path  # type: ignore[attr-defined]
        out[model] = set(model._default_manager.filter(**{path: org.pk}).values_list("pk", flat=True))
    return out


@pytest.fixture
def a_rows(org_a: Organization, users: dict[str, Any], tmp_path: Path) -> dict[type[Model], set[int]]:
    rows = data_of(org_a, users, tmp_path / "archive")
    assert all(rows[m] for m in readings_models()), {label(m): n for m, n in rows.items()}
    return rows


def visible(user: Any, model: type[Model], *, write: bool = False) -> set[int]:
    return set(scope_for(user, model, write=write).values_list("pk", flat=True))


def staff(user: Any) -> Client:
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_every_model_is_covered_and_registered() -> None:
    models = readings_models()
    assert {label(m) for m in models} == {
        "readings.PointProfile",
        "readings.CounterEvent",
        "readings.IngestRun",
        "readings.QuarantinedRow",
        "readings.ReadingBatch",
        "readings.BatchFile",
        "readings.ArchivedPartition",
    }
    for model in models:
        assert getattr(model, "org_path", None), label(model)
        assert isinstance(admin.site._registry.get(model), ScopedAdmin), label(model)


@pytest.mark.parametrize("model", readings_models(), ids=label)
def test_scope_per_role(model: type[Model], a_rows: Any, users: dict[str, Any]) -> None:
    rows = a_rows[model]
    assert rows <= visible(users["admin_a"], model)
    assert rows <= visible(users["clerk_a"], model)
    assert rows <= visible(users["verifier_a"], model)
    assert rows <= visible(users["regulator_cq"], model)
    assert not rows & visible(users["admin_b"], model)
    assert not visible(users["expired_verifier"], model)
    assert visible(users["superuser"], model) == set(model._default_manager.values_list("pk", flat=True))
    if issubclass(model, AppendOnly):
        return  # never written through a scope: only the ingest appends to the chain
    writers = {"admin_a"} | ({"clerk_a"} if "data_clerk" in model.write_roles else set())  # type: ignore[attr-defined]
    for name in writers:
        assert rows <= visible(users[name], model, write=True), name
    for name in ("admin_b", "verifier_a", "regulator_cq", "expired_verifier"):
        assert not rows & visible(users[name], model, write=True), name


@pytest.mark.parametrize("model", readings_models(), ids=label)
def test_admin_of_b_does_not_reach_a(
    model: type[Model], a_rows: Any, org_a: Organization, users: dict[str, Any]
) -> None:
    pk = min(a_rows[model])
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    own = staff(users["admin_a"])
    assert own.get(reverse(f"{info}_change", args=[pk])).status_code == 200
    other = staff(users["admin_b"])
    assert other.get(reverse(f"{info}_change", args=[pk])).status_code in (302, 404)
    assert other.get(reverse(f"{info}_history", args=[pk])).status_code in (302, 403, 404)
    response = other.get(reverse(f"{info}_changelist"))
    assert response.status_code == 200
    assert not a_rows[model] & set(response.context["cl"].queryset.values_list("pk", flat=True))
    assert org_a.name not in response.content.decode()


@pytest.mark.parametrize("model", readings_models(), ids=label)
def test_read_only_roles_cannot_post(model: type[Model], a_rows: Any, users: dict[str, Any]) -> None:
    change = reverse(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[min(a_rows[model])]
    )
    for name in ("verifier_a", "regulator_cq"):
        client = staff(users[name])
        assert client.get(change).status_code == 200, name
        assert client.post(change, {"change_reason": "try"}).status_code == 403, name


@pytest.mark.parametrize("model", CHAIN, ids=label)
def test_the_chain_is_read_only_in_the_admin_for_everyone(
    model: type[Model], a_rows: Any, users: dict[str, Any]
) -> None:
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    pk = min(a_rows[model])
    for name in ("superuser", "admin_a", "clerk_a"):
        client = staff(users[name])
        page = client.get(reverse(f"{info}_change", args=[pk]))
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode(), name
        assert client.post(reverse(f"{info}_change", args=[pk]), {"change_reason": "x"}).status_code == 403
        assert client.get(reverse(f"{info}_add")).status_code == 403
        assert client.get(reverse(f"{info}_delete", args=[pk])).status_code == 403
        changelist = client.get(reverse(f"{info}_changelist"))
        assert not changelist.context["cl"].model_admin.get_actions(changelist.wsgi_request)
    assert model._default_manager.filter(pk=pk).exists()


def test_profiles_take_the_points_organization_and_refuse_another_plants_instrument(
    org_a: Organization, org_b: Organization, users: dict[str, Any]
) -> None:
    client = staff(users["officer_a"])
    point = MeasuringPoint.objects.get(organization=org_a, code=COAL)
    add = reverse("admin:readings_pointprofile_add")
    data = {
        "point": point.pk,
        "quantity": "consumption_mass",
        "expected_interval": "3600",
        "substitution": "none",
        "cems_valid_fraction": "0.75",
        "change_reason": "配置皮带秤数据",
    }
    other = Instrument.objects.filter(organization=org_b).first()
    assert other is not None
    refused = client.post(add, {**data, "instrument": other.pk})
    assert refused.status_code == 200 and not PointProfile.objects.filter(point=point).exists()
    response = client.post(add, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    profile = PointProfile.objects.get(point=point)
    assert profile.organization == org_a
    assert profile.history.first().history_change_reason == "配置皮带秤数据"  # type: ignore[union-attr]
    b_point = MeasuringPoint.objects.filter(organization=org_b).first()
    assert b_point is not None
    response = client.post(add, {**data, "point": b_point.pk})
    assert response.status_code == 200 and not PointProfile.objects.filter(point=b_point).exists()
