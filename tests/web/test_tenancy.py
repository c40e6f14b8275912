"""Tenancy, model by model: no role reaches another organization's rows, through the scope or the admin.

The tests are parametrized over every model of our four apps (``our_models``), so a model added tomorrow
is covered without editing this file — or fails here until it declares ``org_path`` and, when the demo
fixtures hold none of its rows, gets a maker in ``MAKERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.apps import apps
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from simple_history.models import HistoricalChanges

from carbonmeter.web.accounts.models import Membership
from carbonmeter.web.accounts.scope import readable_org_list, readable_orgs_kept, scope_for
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.metrology.models import Notification
from carbonmeter.web.registry.models import (
    Attachment,
    Component,
    Facility,
    Instrument,
    Organization,
    Person,
    PersonCertificate,
    SealEvent,
)

APPS = ("accounts", "registry", "metrology", "assessment")


def our_models() -> list[type[Model]]:
    """Every concrete model of our four apps, without simple-history's shadow (Historical*) models."""
    return [
        m
        for label in APPS
        for m in apps.get_app_config(label).get_models()
        if not issubclass(m, HistoricalChanges)
    ]


def scoped_models() -> list[type[Model]]:
    return [m for m in our_models() if getattr(m, "org_path", None) is not None]


def unscoped_models() -> list[type[Model]]:
    return [m for m in our_models() if getattr(m, "org_path", "") is None]


def label(model: type[Model]) -> str:
    return model._meta.label


def _instrument(org: Organization) -> Instrument:
    inst = Instrument.objects.filter(organization=org).order_by("code").first()
    assert inst is not None, "the fixture organization has no instrument"
    return inst


def _person(org: Organization) -> Person:
    person = Person.objects.filter(organization=org).order_by("pk").first()
    if person is None:
        person = Person(organization=org, name="张三", role="计量员")
        person._change_reason = "test row"
        person.save()
    return person


#: How to make one row of a model in an organization, for models the demo fixtures may not fill.
MAKERS: dict[str, Callable[[Organization, dict[str, Any]], Model]] = {
    "registry.Facility": lambda org, users: Facility(
        organization=org, code="F1", name="1#熟料生产线", level="key_facility"
    ),
    "registry.Component": lambda org, users: Component(
        instrument=_instrument(org), type="sensor", accuracy_class="0.5"
    ),
    "registry.SealEvent": lambda org, users: SealEvent(
        instrument=_instrument(org), date=date(2025, 6, 1), event="applied", seal_no="QF-0001"
    ),
    "registry.Attachment": lambda org, users: Attachment(
        organization=org,
        instrument=_instrument(org),
        kind="certificate",
        title="检定证书",
        file="archive/2025/certificate.pdf",
    ),
    "registry.PersonCertificate": lambda org, users: PersonCertificate(
        person=_person(org), name="计量员证", valid_until=date(2027, 12, 31)
    ),
    "metrology.Notification": lambda org, users: Notification(
        user=users["officer_a"],
        organization=org,
        instrument=_instrument(org),
        kind="due",
        due=date(2026, 3, 1),
        message="测试提醒",
    ),
    "assessment.AssessmentRun": lambda org, users: AssessmentRun(
        organization=org,
        as_of=date(2026, 1, 15),
        pack_id="cq-part1",
        pack_version="test",
        pack_sha256="0" * 64,
        document={"schema": "carbonmeter.assessment/1"},
        conforms=False,
        nonconformities=1,
        observations=0,
    ),
}


def in_org(model: type[Model], org: Organization) -> Any:
    """The rows of ``model`` belonging to ``org`` (all of them, whatever any user may see)."""
    path: str = model.org_path  # type: ignore[attr-defined]
    return model._default_manager.filter(**{path or "pk": org.pk})


def rows_in(model: type[Model], org: Organization, users: dict[str, Any]) -> set[int]:
    """Primary keys of ``model``'s rows in ``org``, making one row when there is none."""
    pks = set(in_org(model, org).values_list("pk", flat=True))
    if pks:
        return pks
    maker = MAKERS.get(label(model))
    if maker is None:
        pytest.fail(f"no {label(model)} row in the fixture organization: add a maker to MAKERS")
    row = maker(org, users)
    row._change_reason = "test row"  # type: ignore[attr-defined]
    row.save()
    return {row.pk}


def visible(user: Any, model: type[Model], *, write: bool = False) -> set[int]:
    return set(scope_for(user, model, write=write).values_list("pk", flat=True))


def staff(user: Any) -> Any:
    user.is_staff = True
    user.save()
    return user


def test_every_model_is_covered() -> None:
    """Every model either is organization data (tested below) or declares ``org_path = None``."""
    assert {label(m) for m in scoped_models()} >= {"registry.Instrument", "metrology.Calibration"}
    assert set(our_models()) == set(scoped_models()) | set(unscoped_models())


@pytest.mark.parametrize("model", scoped_models(), ids=label)
def test_scope_per_role(
    model: type[Model], org_a: Organization, org_b: Organization, users: dict[str, Any]
) -> None:
    """Member of B, verifier, expired verifier, regulator and superuser each see exactly what they may."""
    a_rows = rows_in(model, org_a, users)
    total = set(model._default_manager.values_list("pk", flat=True))

    assert a_rows <= visible(users["admin_a"], model), "a member of A reads A"
    assert a_rows <= visible(users["admin_a"], model, write=True), "A's org admin writes A"

    assert not a_rows & visible(users["admin_b"], model), "a member of B reads A's rows"
    assert not a_rows & visible(users["admin_b"], model, write=True), "a member of B may change A's rows"

    assert a_rows <= visible(users["verifier_a"], model), "A's verifier cannot read A"
    assert not visible(users["verifier_a"], model, write=True), "a verifier may write"

    assert not visible(users["expired_verifier"], model), "an expired grant still reads"
    assert not visible(users["expired_verifier"], model, write=True)

    assert a_rows <= visible(users["regulator_cq"], model), "the regulator of A's region cannot read A"
    assert not visible(users["regulator_cq"], model, write=True), "a regulator may write"

    assert visible(users["superuser"], model) == total
    assert visible(users["superuser"], model, write=True) == total


@pytest.mark.parametrize("model", scoped_models(), ids=label)
def test_admin_of_b_does_not_reach_a(
    model: type[Model], org_a: Organization, org_b: Organization, users: dict[str, Any]
) -> None:
    """A staff member of B gets no change page, no history and no changelist rows of A; A's admin does."""
    a_rows = rows_in(model, org_a, users)
    pk = min(a_rows)
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    change = reverse(f"{info}_change", args=[pk])
    history = reverse(f"{info}_history", args=[pk])
    changelist = reverse(f"{info}_changelist")

    own = Client()
    own.force_login(staff(users["admin_a"]))
    assert own.get(change).status_code == 200, "control: A's admin opens A's row"
    assert a_rows <= set(own.get(changelist).context["cl"].queryset.values_list("pk", flat=True))

    other = Client()
    other.force_login(staff(users["admin_b"]))
    assert other.get(change).status_code in (302, 404)
    assert other.get(history).status_code in (302, 403, 404)
    response = other.get(changelist)
    assert response.status_code == 200
    assert not a_rows & set(response.context["cl"].queryset.values_list("pk", flat=True))
    assert org_a.name not in response.content.decode(), "A's name leaks into B's changelist (filters?)"


@pytest.mark.parametrize("model", scoped_models(), ids=label)
def test_admin_read_only_roles_cannot_post(
    model: type[Model], org_a: Organization, org_b: Organization, users: dict[str, Any]
) -> None:
    """A's verifier and the regulator, made staff, read A's rows in the admin but cannot save them."""
    pk = min(rows_in(model, org_a, users))
    change = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])
    for name in ("verifier_a", "regulator_cq"):
        client = Client()
        client.force_login(staff(users[name]))
        assert client.get(change).status_code == 200, f"{name} reads A's row"
        assert client.post(change, {"change_reason": "try"}).status_code == 403, f"{name} saved A's row"


@pytest.mark.parametrize("model", unscoped_models(), ids=label)
def test_models_without_organization_are_superuser_only(
    model: type[Model], org_a: Organization, users: dict[str, Any]
) -> None:
    for name in ("admin_a", "officer_a", "verifier_a", "regulator_cq", "admin_b"):
        assert not visible(users[name], model), name
        assert not visible(users[name], model, write=True), name
    assert visible(users["superuser"], model) == set(model._default_manager.values_list("pk", flat=True))


# --- the readable organizations a request keeps (issue 9: one lookup per request) -------------------------


def test_a_request_reads_the_readable_organizations_again_after_a_membership_changes(
    org_a: Organization, users: dict[str, Any]
) -> None:
    """Within one request the readable organizations are worked out once; a write of a membership in that
    request (as the admin makes) empties what was kept, so the rest of the request sees the change."""
    officer = users["officer_a"]
    with readable_orgs_kept():
        assert org_a in readable_org_list(officer)
        assert scope_for(officer, Instrument).filter(organization=org_a).exists()
        membership = Membership.objects.get(user=officer, organization=org_a)
        membership.archived = True
        membership._change_reason = "test"
        membership.save()
        assert org_a not in readable_org_list(officer)
        assert not scope_for(officer, Instrument).filter(organization=org_a).exists()


def test_a_revoked_membership_shows_at_the_next_request(
    client: Client, org_a: Organization, users: dict[str, Any]
) -> None:
    """Nothing is kept between requests: the officer's next page after losing A's membership is not A's."""
    client.force_login(users["officer_a"])
    assert org_a.name in client.get(reverse("register")).content.decode()
    Membership.objects.filter(user=users["officer_a"], organization=org_a).update(archived=True)
    assert client.get(reverse("register")).status_code == 404
    assert client.get(reverse("dashboard")).status_code == 404
