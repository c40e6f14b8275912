"""Reminders of verifications falling due (issue: in the app and by e-mail, N days before and when overdue).

Dates are fixed (``TODAY``) and passed in; the locmem e-mail backend (``mailoutbox``) catches the mails.
"""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO
from typing import Any, TypeVar

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.db.models import Model
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from carbonmeter.web.accounts.models import Membership
from carbonmeter.web.metrology import reminders
from carbonmeter.web.metrology.models import Calibration, Notification
from carbonmeter.web.metrology.reminders import send_reminders
from carbonmeter.web.registry.models import Instrument, Organization

TODAY = date(2026, 3, 2)


M = TypeVar("M", bound=Model)


def save(row: M) -> M:
    row._change_reason = "test"  # type: ignore[attr-defined]
    row.save()
    return row


def plant(name: str, credit_code: str) -> Organization:
    return save(Organization(name=name, credit_code=credit_code, region="重庆市"))


def instrument(org: Organization, code: str, *, status: str = "in_use") -> Instrument:
    return save(Instrument(organization=org, code=code, name="电子皮带秤", location="1#窑头", status=status))


def record(inst: Instrument, on: date, valid_until: date | None, result: str = "pass") -> Calibration:
    return save(
        Calibration(instrument=inst, kind="verification", date=on, valid_until=valid_until, result=result)
    )


def member(org: Organization, username: str, role: str, *, email: bool = True) -> Any:
    user = get_user_model().objects.create_user(
        username, email=f"{username}@example.org" if email else "", first_name=username
    )
    save(Membership(user=user, organization=org, role=role))
    return user


@pytest.fixture(autouse=True)
def lead_days(settings: Any) -> None:
    settings.CARBONMETER_REMINDER_DAYS = (30, 7)


@pytest.fixture
def small(db: None) -> dict[str, Any]:
    """One plant with one in-use instrument whose verification ends in exactly 30 days, and its people."""
    org = plant("渝东水泥有限公司", "91500000000000001A")
    inst = instrument(org, "PD-01")
    record(inst, TODAY - timedelta(days=335), TODAY + timedelta(days=30))
    return {
        "org": org,
        "inst": inst,
        "admin": member(org, "plant_admin", "org_admin"),
        "officer": member(org, "plant_officer", "metrology_officer"),
        "clerk": member(org, "plant_clerk", "data_clerk"),
    }


def test_due_in_exactly_30_days_notifies_and_mails(small: dict[str, Any], mailoutbox: list[Any]) -> None:
    assert send_reminders(TODAY) == 2
    rows = Notification.objects.filter(instrument=small["inst"])
    assert {(n.user, n.kind, n.due) for n in rows} == {
        (small["admin"], "due", TODAY + timedelta(days=30)),
        (small["officer"], "due", TODAY + timedelta(days=30)),
    }
    assert all("还有 30 天到期" in n.message and not n.read for n in rows)
    assert sorted(m.to[0] for m in mailoutbox) == ["plant_admin@example.org", "plant_officer@example.org"]
    message = mailoutbox[0]
    assert "检定到期提醒" in message.subject and "渝东水泥有限公司" in message.subject
    assert "PD-01" in message.body and (TODAY + timedelta(days=30)).isoformat() in message.body
    assert "即将到期" in message.body


@pytest.mark.parametrize("days", [29, 31, 8])
def test_other_days_are_quiet(small: dict[str, Any], mailoutbox: list[Any], days: int) -> None:
    assert send_reminders(TODAY + timedelta(days=30 - days)) == 0
    assert not Notification.objects.exists()
    assert not mailoutbox


def test_running_twice_tells_nothing_twice(small: dict[str, Any], mailoutbox: list[Any]) -> None:
    send_reminders(TODAY)
    assert send_reminders(TODAY) == 0
    assert Notification.objects.count() == 2
    assert len(mailoutbox) == 2


def test_second_lead_time_renews_the_reminder(small: dict[str, Any], mailoutbox: list[Any]) -> None:
    send_reminders(TODAY)
    Notification.objects.update(read=True)
    assert send_reminders(TODAY + timedelta(days=23)) == 2  # 7 days before
    rows = Notification.objects.filter(user=small["officer"])
    assert rows.count() == 1  # one row per instrument, kind and due date (the model's constraint)
    row = rows.get()
    assert "还有 7 天到期" in row.message and not row.read
    assert len(mailoutbox) == 4
    assert send_reminders(TODAY + timedelta(days=23)) == 0


def test_overdue_is_told_once(small: dict[str, Any], mailoutbox: list[Any]) -> None:
    lapsed = instrument(small["org"], "PD-02")
    record(lapsed, date(2025, 2, 1), TODAY - timedelta(days=1))
    assert send_reminders(TODAY) == 4  # PD-01 due, PD-02 overdue, for two recipients
    overdue = Notification.objects.filter(kind="overdue")
    assert {(n.instrument, n.due) for n in overdue} == {(lapsed, TODAY - timedelta(days=1))}
    assert "已过期" in mailoutbox[0].body and "PD-02" in mailoutbox[0].body
    assert len(mailoutbox) == 2  # one mail per recipient, listing both instruments
    assert send_reminders(TODAY + timedelta(days=1)) == 0
    assert send_reminders(TODAY + timedelta(days=40)) == 2  # PD-01 has now lapsed too
    assert Notification.objects.filter(kind="overdue").count() == 4


def test_the_newest_pass_decides(small: dict[str, Any], mailoutbox: list[Any]) -> None:
    """An old lapsed certificate does not make an instrument overdue once a newer pass covers it; archived
    records and records dated after today do not count."""
    inst = instrument(small["org"], "PD-03")
    record(inst, date(2024, 1, 5), date(2025, 1, 4))
    record(inst, date(2025, 4, 2), TODAY + timedelta(days=7))
    newer = record(inst, TODAY - timedelta(days=2), TODAY + timedelta(days=400))
    newer.archive("录入错误")
    record(inst, TODAY + timedelta(days=3), TODAY + timedelta(days=368))  # booked, not yet done
    send_reminders(TODAY)
    kinds = {(n.instrument, n.kind) for n in Notification.objects.filter(user=small["officer"])}
    assert kinds == {(small["inst"], "due"), (inst, "due")}


def test_no_reminder_for_an_instrument_voided_by_a_failure(
    small: dict[str, Any], mailoutbox: list[Any]
) -> None:
    """A failure after the pass voids it (复检不合格): the old certificate's date is no deadline any more,
    and "due in 7 days" about a voided certificate would be false (it once was sent)."""
    inst = instrument(small["org"], "PD-05")
    record(inst, date(2025, 4, 2), TODAY + timedelta(days=7))
    record(inst, TODAY - timedelta(days=1), None, result="fail")
    lapsed = instrument(small["org"], "PD-06")
    record(lapsed, date(2024, 4, 2), TODAY - timedelta(days=5))
    record(lapsed, TODAY - timedelta(days=1), None, result="fail")
    send_reminders(TODAY)
    send_reminders(TODAY + timedelta(days=7))
    told = {n.instrument for n in Notification.objects.all()}
    assert inst not in told and lapsed not in told
    assert small["inst"] in told


def test_reminder_texts_come_from_the_catalogue(small: dict[str, Any]) -> None:
    (due,) = reminders.dues(small["org"], TODAY, (30,))
    assert due.message("zh") == (
        "PD-01 电子皮带秤（1#窑头）的检定/校准有效期至 2026-04-01，还有 30 天到期，请及时安排。"
    )
    assert due.message("en").startswith(
        "The verification/calibration of PD-01 电子皮带秤 (1#窑头) is valid until"
    )


def test_only_in_use_instruments_and_recipient_roles(small: dict[str, Any], mailoutbox: list[Any]) -> None:
    spare = instrument(small["org"], "PD-04", status="standby")
    record(spare, date(2024, 1, 5), date(2025, 1, 4))
    send_reminders(TODAY)
    assert not Notification.objects.filter(instrument=spare).exists()
    assert not Notification.objects.filter(user=small["clerk"]).exists()
    assert "plant_clerk@example.org" not in [m.to[0] for m in mailoutbox]


def test_users_without_email_get_the_notification_only(small: dict[str, Any], mailoutbox: list[Any]) -> None:
    quiet = member(small["org"], "no_mail", "metrology_officer", email=False)
    send_reminders(TODAY)
    assert Notification.objects.filter(user=quiet).count() == 1
    assert len(mailoutbox) == 2


def test_a_refused_mail_rolls_back_that_recipients_notifications(
    small: dict[str, Any], mailoutbox: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """So re-running the day tells them again, by both channels."""
    real = mail.send_mail

    def flaky(subject: str, body: str, sender: Any, to: list[str], **kw: Any) -> int:
        if to == ["plant_admin@example.org"]:
            raise OSError("mail server refused")
        return real(subject, body, sender, to, **kw)

    monkeypatch.setattr(reminders, "send_mail", flaky)
    with pytest.raises(reminders.ReminderDeliveryError):
        send_reminders(TODAY)
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["plant_officer"]
    monkeypatch.setattr(reminders, "send_mail", real)
    assert send_reminders(TODAY) == 1
    assert [m.to[0] for m in mailoutbox] == ["plant_officer@example.org", "plant_admin@example.org"]


def test_organization_b_hears_nothing_about_a(
    org_a: Organization, org_b: Organization, users: dict[str, Any], mailoutbox: list[Any]
) -> None:
    for user in users.values():
        user.email = f"{user.username}@example.org"
        user.save()
    inst = Instrument.objects.filter(organization=org_a, status="in_use").order_by("code").first()
    assert inst is not None
    record(inst, TODAY - timedelta(days=1), TODAY + timedelta(days=30))
    assert send_reminders(TODAY) > 0

    assert Notification.objects.filter(user=users["officer_a"], instrument=inst, kind="due").exists()
    assert Notification.objects.filter(user=users["admin_a"], instrument=inst, kind="due").exists()
    of_b = Notification.objects.filter(user=users["admin_b"])
    assert not of_b.exclude(organization=org_b).exists()
    assert not of_b.filter(instrument__organization=org_a).exists()
    for name in ("clerk_a", "verifier_a", "expired_verifier", "regulator_cq", "superuser"):
        assert not Notification.objects.filter(user=users[name]).exists(), name

    to_b = [m for m in mailoutbox if m.to == ["admin_b@example.org"]]
    assert all(org_a.name not in m.subject + m.body and inst.code not in m.body for m in to_b)
    recipients = {m.to[0] for m in mailoutbox}
    assert recipients <= {"admin_a@example.org", "officer_a@example.org", "admin_b@example.org"}


def test_the_django_q_task_runs_it(small: dict[str, Any], mailoutbox: list[Any]) -> None:
    """The schedule's task path, run synchronously by django-q2 (no cluster needed)."""
    async_task(reminders.TASK, today=TODAY, sync=True)
    assert Notification.objects.filter(instrument=small["inst"], kind="due").count() == 2
    assert len(mailoutbox) == 2


def test_send_reminders_command(small: dict[str, Any], mailoutbox: list[Any]) -> None:
    out = StringIO()
    call_command("send_reminders", "--today", TODAY.isoformat(), stdout=out)
    # Every organization in the database is reminded; the output counts them all.
    assert f"已写入 {Notification.objects.count()} 条提醒" in out.getvalue()
    assert Notification.objects.filter(instrument=small["inst"], kind="due").count() == 2
    with pytest.raises(CommandError):
        call_command("send_reminders", "--today", "2026-02-30")


def test_setup_schedules_is_idempotent(db: None) -> None:
    call_command("setup_schedules", stdout=StringIO())
    first = Schedule.objects.get(name="检定到期提醒")
    call_command("setup_schedules", stdout=StringIO())
    again = Schedule.objects.get(name="检定到期提醒")
    assert first.pk == again.pk and first.next_run == again.next_run
    assert again.func == "carbonmeter.web.metrology.reminders.send_reminders"
    assert again.schedule_type == Schedule.DAILY and again.repeats == -1
    call_command("setup_schedules", "--at", "06:30", stdout=StringIO())
    moved = Schedule.objects.get(name="检定到期提醒")
    local = timezone.localtime(moved.next_run)
    assert (local.hour, local.minute) == (6, 30)


def test_mail_outbox_is_the_locmem_backend() -> None:
    """The e-mail assertions above hold because tests use Django's locmem backend."""
    assert mail.get_connection().__class__.__module__ == "django.core.mail.backends.locmem"
