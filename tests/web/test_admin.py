"""The Django admin: every model registered with history and scoping, a reason on every save, no deletes,
an archive action bounded by the write scope, relation choices bounded by the organizations one writes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from carbonmeter.web.accounts.models import Membership, VerifierGrant
from carbonmeter.web.accounts.scope import scope_for
from carbonmeter.web.admin_scoping import REASON_FIELD, ScopedAdmin, archive_reason
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry.models import Facility, Instrument, MeasuringPoint, Organization
from tests.web.test_tenancy import label, our_models, rows_in, scoped_models

# The tenancy module's fixtures: conftest's organizations and users, built once for this module too.


def url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def client_for(user: Any, *, is_staff: bool = True) -> Client:
    user.is_staff = is_staff
    user.save()
    client = Client()
    client.force_login(user)
    return client


def form_data(response: Any) -> dict[str, Any]:
    """What the change form would post back unchanged (the reason left empty)."""
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field.widget, forms.CheckboxInput):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        else:
            data[name] = "" if value is None else str(value)
    return data


def instrument_of(org: Organization) -> Instrument:
    inst = Instrument.objects.filter(organization=org).order_by("code").first()
    assert inst is not None
    return inst


@pytest.mark.parametrize("model", our_models(), ids=label)
def test_every_model_is_registered_with_history_and_scoping(model: type[Model]) -> None:
    model_admin = admin.site._registry.get(model)
    assert model_admin is not None, f"{label(model)} is not in the admin"
    assert isinstance(model_admin, ScopedAdmin)
    assert isinstance(model_admin, SimpleHistoryAdmin)


@pytest.mark.parametrize("model", our_models(), ids=label)
def test_no_model_can_be_deleted_and_relation_filters_list_only_visible_values(
    model: type[Model], rf: RequestFactory, users: dict[str, Any]
) -> None:
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = users["superuser"]
    assert not model_admin.has_delete_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)
    assert "archive_selected" in model_admin.get_actions(request)
    for spec in model_admin.get_list_filter(request):
        if isinstance(spec, str):
            field = model._meta.get_field(spec.split("__")[0])
            assert not field.is_relation, f"{label(model)}: plain relation filter {spec!r} lists every tenant"


@pytest.mark.parametrize("model", our_models(), ids=label)
def test_superuser_pages_render(model: type[Model], org_a: Organization, users: dict[str, Any]) -> None:
    client = client_for(users["superuser"])
    assert client.get(url(model, "changelist")).status_code == 200
    assert client.get(url(model, "add")).status_code in (200, 403)
    row = (
        model._default_manager.filter(pk__in=rows_in(model, org_a, users)).first()
        if model in scoped_models()
        else model._default_manager.first()
    )
    if row is not None:
        assert client.get(url(model, "change", row.pk)).status_code == 200
        assert client.get(url(model, "history", row.pk)).status_code == 200
        assert client.get(url(model, "delete", row.pk)).status_code == 403


def test_instrument_changelist_shows_the_register_and_searches(
    org_a: Organization, users: dict[str, Any]
) -> None:
    inst = instrument_of(org_a)
    assert {"code", "name", "status", "location", "asset_no"} <= set(
        admin.site._registry[Instrument].list_display
    )
    client = client_for(users["officer_a"])
    response = client.get(url(Instrument, "changelist"), {"q": inst.code})
    assert response.status_code == 200
    assert inst in response.context["cl"].queryset
    page = response.content.decode()
    assert "碳计量器具" in page and "管理编号" in page and "安装使用地点" in page  # zh verbose names


def test_change_needs_a_reason_which_history_keeps(org_a: Organization, users: dict[str, Any]) -> None:
    inst = instrument_of(org_a)
    client = client_for(users["officer_a"])
    change = url(Instrument, "change", inst.pk)
    page = client.get(change)
    assert "变更原因" in page.content.decode()
    data = form_data(page)
    assert REASON_FIELD in data
    data["location"] = "2#窑头"

    refused = client.post(change, data)
    assert refused.status_code == 200
    assert REASON_FIELD in refused.context["adminform"].form.errors
    inst.refresh_from_db()
    assert inst.location != "2#窑头"

    data[REASON_FIELD] = "设备移位"
    assert client.post(change, data).status_code == 302
    inst.refresh_from_db()
    assert inst.location == "2#窑头"
    latest = inst.history.order_by("-history_date").first()
    assert latest.history_change_reason == "设备移位"
    assert latest.history_user == users["officer_a"]


def test_archive_action_asks_nothing_and_records_who(org_a: Organization, users: dict[str, Any]) -> None:
    inst = instrument_of(org_a)
    client = client_for(users["admin_a"])
    response = client.post(
        url(Instrument, "changelist"), {"action": "archive_selected", "_selected_action": [inst.pk]}
    )
    assert response.status_code == 302  # done at once, no confirmation page
    inst.refresh_from_db()
    assert inst.archived
    assert inst.history.order_by("-history_date").first().history_change_reason == "由 admin_a 在管理后台归档"
    assert not scope_for(users["admin_a"], Instrument).filter(pk=inst.pk).exists()
    assert Instrument.objects.filter(pk=inst.pk).exists()


def test_archive_action_skips_rows_the_user_only_reads(
    org_a: Organization, org_b: Organization, users: dict[str, Any]
) -> None:
    """A's admin who is also B's verifier sees B's instruments but cannot archive them."""
    today = timezone.localdate()
    VerifierGrant(
        user=users["admin_a"], organization=org_b, valid_from=today, valid_until=today + timedelta(days=30)
    ).save()
    mine, theirs = instrument_of(org_a), instrument_of(org_b)
    client = client_for(users["admin_a"])
    listed = client.get(url(Instrument, "changelist")).context["cl"].queryset
    assert theirs in listed
    client.post(
        url(Instrument, "changelist"),
        {"action": "archive_selected", "_selected_action": [mine.pk, theirs.pk]},
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.archived
    assert not theirs.archived


def test_archive_reason_fits_the_history_column(rf: RequestFactory) -> None:
    request = rf.get("/")

    class LongName:
        def get_username(self) -> str:
            return "x" * 150

    request.user = LongName()  # type: ignore[assignment]
    assert len(archive_reason(request, Instrument)) == 100


def test_relation_choices_are_limited_to_the_organizations_one_writes(
    org_a: Organization, org_b: Organization, users: dict[str, Any]
) -> None:
    admin_a = client_for(users["admin_a"])
    add_form = admin_a.get(url(Instrument, "add")).context["adminform"].form
    assert list(add_form.fields["organization"].queryset) == [org_a]

    inst = instrument_of(org_a)
    change_form = admin_a.get(url(Instrument, "change", inst.pk)).context["adminform"].form
    points = set(change_form.fields["points"].queryset)
    assert points == set(MeasuringPoint.objects.filter(organization=org_a, archived=False))

    # A data clerk writes calibration records (not instruments): the instruments offered are A's.
    clerk = client_for(users["clerk_a"])
    calibration_form = clerk.get(url(Calibration, "add")).context["adminform"].form
    offered = set(calibration_form.fields["instrument"].queryset)
    assert offered == set(Instrument.objects.filter(organization=org_a, archived=False))

    # Users offered for a membership: only those already linked to A; never B's people or staff of others.
    membership_form = admin_a.get(url(Membership, "add")).context["adminform"].form
    names = {u.username for u in membership_form.fields["user"].queryset}
    assert names == {"admin_a", "officer_a", "clerk_a", "verifier_a", "expired_verifier"}


def test_posting_another_organizations_key_is_refused(
    org_a: Organization, org_b: Organization, users: dict[str, Any]
) -> None:
    client = client_for(users["admin_a"])
    response = client.post(
        url(Facility, "add"),
        {
            "organization": org_b.pk,
            "code": "F9",
            "name": "越权设施",
            "level": "key_facility",
            REASON_FIELD: "test",
        },
    )
    assert response.status_code == 200
    assert "organization" in response.context["adminform"].form.errors
    assert not Facility.objects.filter(name="越权设施").exists()


def test_add_records_the_reason(org_a: Organization, users: dict[str, Any]) -> None:
    client = client_for(users["officer_a"])
    response = client.post(
        url(Facility, "add"),
        {
            "organization": org_a.pk,
            "code": "F3",
            "name": "3#熟料生产线",
            "level": "key_facility",
            REASON_FIELD: "新建产线",
        },
    )
    assert response.status_code == 302
    facility = Facility.objects.get(name="3#熟料生产线")
    assert facility.history.get().history_change_reason == "新建产线"


def test_revert_through_history_needs_the_change_permission(
    org_a: Organization, users: dict[str, Any], rf: RequestFactory
) -> None:
    """django-simple-history's history form saves on POST after checking only the view permission."""
    inst = instrument_of(org_a)
    version = inst.history.order_by("history_date").first()
    target = reverse("admin:registry_instrument_simple_history", args=[inst.pk, version.history_id])
    verifier = client_for(users["verifier_a"])
    page = verifier.get(target)
    assert page.status_code == 200
    data = form_data(page)
    data.update(location="篡改", change_reason="revert")
    assert verifier.post(target, data).status_code in (200, 403)  # 200: no organization offered to save into
    inst.refresh_from_db()
    assert inst.location != "篡改"

    # The last line of defence, reached if a form ever validates: save_model checks the write scope itself.
    request = rf.post(target)
    request.user = users["verifier_a"]
    form = admin.site._registry[Instrument].get_form(request, inst)(data, instance=inst)
    form.is_valid()
    form.cleaned_data[REASON_FIELD] = "revert"
    with pytest.raises(PermissionDenied):
        admin.site._registry[Instrument].save_model(request, inst, form, change=True)


def test_only_an_org_admin_manages_people(org_a: Organization, users: dict[str, Any]) -> None:
    membership = Membership.objects.get(user=users["officer_a"], organization=org_a)
    change = url(Membership, "change", membership.pk)
    officer = client_for(users["officer_a"])
    assert officer.get(change).status_code == 200  # reads it
    assert (
        officer.post(
            change,
            {
                "user": users["officer_a"].pk,
                "organization": org_a.pk,
                "role": "org_admin",
                REASON_FIELD: "promote myself",
            },
        ).status_code
        == 403
    )
    assert officer.get(url(Membership, "add")).status_code == 403
    membership.refresh_from_db()
    assert membership.role == "metrology_officer"
    assert client_for(users["admin_a"]).get(url(Membership, "add")).status_code == 200


def test_organizations_are_created_by_superusers_and_region_is_not_self_service(
    org_a: Organization, users: dict[str, Any]
) -> None:
    client = client_for(users["admin_a"])
    assert client.get(url(Organization, "add")).status_code == 403
    form = client.get(url(Organization, "change", org_a.pk)).context["adminform"].form
    assert "name" in form.fields
    assert "region" not in form.fields and "credit_code" not in form.fields


def test_admin_needs_staff_status_and_then_shows_our_apps(org_a: Organization, users: dict[str, Any]) -> None:
    not_staff = client_for(users["officer_a"], is_staff=False)
    response = not_staff.get(url(Instrument, "changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]

    staff = client_for(users["officer_a"])
    index = staff.get(reverse("admin:index"))
    assert index.status_code == 200
    page = index.content.decode()
    assert url(Instrument, "changelist") in page
    # Our apps are titled in Chinese on the index (they read "Registry", "Metrology", "Accounts" before).
    for title in ("碳计量器具登记", "检定校准与计量管理", "用户与权限", "评价", "计量数据"):
        assert title in page, title
    for english in (">Registry<", ">Metrology<", ">Accounts<", ">Assessment<"):
        assert english.lower() not in page.lower(), english


def test_relation_filters_are_rewritten_to_related_only(rf: RequestFactory, users: dict[str, Any]) -> None:
    request = rf.get("/")
    request.user = users["admin_a"]
    specs = admin.site._registry[Instrument].get_list_filter(request)
    assert ("organization", RelatedOnlyFieldListFilter) in specs
    assert "status" in specs
