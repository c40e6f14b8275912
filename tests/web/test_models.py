"""What every model of our four apps promises (base.py): a declared tenancy rule that ``scope_for`` can use,
no hard delete, archive with a reason kept in the history, and validation on every save."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Model

from carbonmeter.web.accounts.models import ApiToken, LoginThrottle
from carbonmeter.web.accounts.scope import scope_for
from carbonmeter.web.accounts.throttle import hit
from carbonmeter.web.base import REASON_MAX_LENGTH, BaseModel, RecordDeletionError
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry.models import Instrument, Organization
from tests.web.test_tenancy import label, our_models, rows_in, scoped_models

# The tenancy module's fixtures: conftest's organizations and users, built once for this module too.


def test_the_walk_finds_our_models_and_no_history_models() -> None:
    names = {label(m) for m in our_models()}
    assert {"registry.Organization", "registry.Instrument", "metrology.Calibration"} <= names
    assert {"accounts.Membership", "assessment.AssessmentRun", "metrology.Notification"} <= names
    assert not [n for n in names if ".Historical" in n]


@pytest.mark.parametrize("model", our_models(), ids=label)
def test_model_declares_its_scoping_rule(model: type[Model]) -> None:
    assert issubclass(model, BaseModel), f"{label(model)} does not extend BaseModel"
    assert hasattr(model, "org_path"), f"{label(model)} declares no org_path"
    path = model.org_path
    assert path is None or isinstance(path, str)
    if path is None:
        return
    target: Any = model
    for part in path.split("__") if path else ():
        target = target._meta.get_field(part).related_model
    assert target is Organization, f"{label(model)}.org_path {path!r} leads to {target}, not Organization"


@pytest.mark.parametrize("model", our_models(), ids=label)
def test_scope_for_works_for_every_model(model: type[Model], users: dict[str, Any]) -> None:
    for user in users.values():
        for write in (False, True):
            rows = scope_for(user, model, write=write)
            assert rows.model is model
            list(rows[:5])  # the lookup is valid SQL on this model
    everyone = model._default_manager.exclude(archived=True).count()
    assert scope_for(users["superuser"], model).count() == everyone


@pytest.mark.parametrize("model", our_models(), ids=label)
def test_delete_is_refused(model: type[Model], org_a: Organization, users: dict[str, Any]) -> None:
    assert model.delete is BaseModel.delete, f"{label(model)} overrides delete()"
    pks = rows_in(model, org_a, users) if model in scoped_models() else set()
    row = model._default_manager.filter(pk__in=pks).first() or model._default_manager.first()
    if row is None and model is ApiToken:  # users' tokens: no fixture holds one
        row, _ = ApiToken.issue(users["admin_a"], "delete test")
    if row is None and model is LoginThrottle:  # login counters: none until someone tries to log in
        hit("user:delete-test")
        row = LoginThrottle.objects.get(key="user:delete-test")
    assert row is not None, f"no {label(model)} row to try: add one to the fixtures"
    with pytest.raises(RecordDeletionError):
        row.delete()
    assert model._default_manager.filter(pk=row.pk).exists()


def test_archive_keeps_the_row_and_the_reason(org_a: Organization, users: dict[str, Any]) -> None:
    inst = Instrument.objects.filter(organization=org_a).order_by("code").first()
    assert inst is not None
    inst.archive("报废，已拆除")
    inst.refresh_from_db()
    assert inst.archived
    latest = inst.history.order_by("-history_date").first()
    assert latest is not None
    assert latest.history_change_reason == "报废，已拆除"
    assert latest.archived
    assert not scope_for(users["superuser"], Instrument).filter(pk=inst.pk).exists()


def test_save_runs_full_clean(org_a: Organization) -> None:
    inst = Instrument.objects.filter(organization=org_a).order_by("code").first()
    assert inst is not None
    inst.status = "lost"  # not one of the choices
    with pytest.raises(ValidationError) as caught:
        inst.save()
    assert "status" in caught.value.message_dict
    with pytest.raises(ValidationError):
        inst.save(update_fields=["status"])
    inst.refresh_from_db()
    assert inst.status != "lost"


def test_save_runs_the_model_clean(org_a: Organization) -> None:
    inst = Instrument.objects.filter(organization=org_a).order_by("code").first()
    record = Calibration(
        instrument=inst,
        kind="verification",
        date=date(2025, 6, 1),
        valid_until=date(2025, 5, 31),
        result="pass",
    )
    with pytest.raises(ValidationError) as caught:
        record.save()
    assert "valid_until" in caught.value.message_dict


def test_a_reason_longer_than_the_history_column_is_refused_before_writing(org_a: Organization) -> None:
    """The history keeps 100 characters of reason: PostgreSQL would fail mid-save, SQLite keep it all."""
    inst = Instrument.objects.filter(organization=org_a).order_by("code").first()
    assert inst is not None
    before = inst.history.count()
    inst.location = "新位置"
    inst._change_reason = "因" * (REASON_MAX_LENGTH + 1)
    with pytest.raises(ValidationError) as caught:
        inst.save()
    assert "reason" in caught.value.message_dict
    assert inst.history.count() == before
    inst._change_reason = "因" * REASON_MAX_LENGTH
    inst.save()
    assert inst.history.count() == before + 1


def test_reporting_year_defaults_to_the_previous_calendar_year(db: Any) -> None:
    """No year written into the model (issue 9, item 7): the default is taken from the calendar when the
    organization is created, so next January's new unit reports on the year just ended."""
    from django.utils import timezone

    from carbonmeter.web.registry.models import previous_year

    field = Organization._meta.get_field("reporting_year")
    assert field.default is previous_year
    org = Organization(name="新单位", credit_code="91500000000000009Z")
    org._change_reason = "test"
    org.save()
    assert org.reporting_year == timezone.localdate().year - 1


#: What a column comment must not hold: a source file (``model.py``) or a constant of the code
#: (``model.REASONS``, ``LOW_AVAILABILITY``): a comment describes the data to whoever reads the database.
CODE_IN_COMMENT = re.compile(r"\b\w+\.py\b|\b\w+\.[A-Z][A-Z0-9_]{2,}\b|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")


def test_column_comments_describe_the_data_not_the_code() -> None:
    """Issue 9: ``QuarantinedRow.variant`` was commented "(readings/model.py REASONS)"."""
    found = [
        f"{m._meta.label}.{f.name}: {f.db_comment}"
        for m in apps.get_models()
        if m.__module__.startswith("carbonmeter.")
        for f in m._meta.get_fields()
        if getattr(f, "db_comment", None) and CODE_IN_COMMENT.search(f.db_comment)
    ]
    assert not found, found
