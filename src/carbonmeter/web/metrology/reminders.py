"""Reminders: verification/calibration falling due, or overdue, told in the app and by e-mail.

Issue: "a scheduled job (django-q2 on the database broker) notifies in the app and by e-mail a configurable
number of days before a verification falls due and when it is overdue".  ``manage.py setup_schedules``
creates the daily django-q2 ``Schedule`` that calls :func:`send_reminders`; ``manage.py send_reminders
--today …`` runs (or re-runs) one day by hand.

For every organization, each in-use instrument's state is the core's rule
(:func:`carbonmeter.web.registry.validity.with_state`, as on every page).  A traceable instrument whose
covering record ends (``valid_until``, inclusive) exactly on ``today + N`` for an N of
``settings.CARBONMETER_REMINDER_DAYS`` is "due"; an expired one is "overdue".  An instrument whose pass a
later failure voided (复检不合格) gets no reminder: its certificate no longer counts, so there is nothing
to renew on time — the plan and the dashboard show it as failed.  The texts are the catalogue's
(``reminders`` in ``rules/messages.yaml``).  The recipients are the organization's admins
and metrology officers.  Each gets one :class:`Notification` per instrument, kind and due date — the
model's unique constraint — and at most one e-mail per run, listing only what is new to them.  So running
the job twice, or the cluster firing it twice, tells nobody anything twice.

Because the constraint does not include the lead time, a second lead time (30 then 7 days) finds the row of
the first: it is renewed (new text, unread again) and mailed again, which is what a second reminder means.

The function takes ``today`` and never reads the clock when it is given, so tests and re-runs for a missed
day are exact.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from carbonmeter.core.traceability import TRACEABLE_STATES
from carbonmeter.rules.messages import Lang, text
from carbonmeter.web.metrology.models import Notification
from carbonmeter.web.registry import validity
from carbonmeter.web.registry.models import Instrument, Organization

logger = logging.getLogger(__name__)

#: Roles of an organization that are told (they plan and book verifications).
RECIPIENT_ROLES = ("org_admin", "metrology_officer")
#: The language reminders are written in (Chinese, the first language).
LANG: Lang = "zh"
#: The history's change reason for rows the job writes.
REASON = text("reminders", "reason", LANG)
#: The task the daily schedule runs (``setup_schedules``).
TASK = "carbonmeter.web.metrology.reminders.send_reminders"


class ReminderDeliveryError(RuntimeError):
    """Some e-mails could not be sent; their recipients' notifications were rolled back for a re-run."""


@dataclass(frozen=True)
class Due:
    """One instrument to tell about: ``days`` left (negative when overdue)."""

    instrument: Instrument
    kind: str
    due: date
    days: int

    def message(self, lang: Lang = LANG) -> str:
        i = self.instrument
        key = "instrument_at" if i.location else "instrument"
        what = text("reminders", key, lang, code=i.code, name=i.name, location=i.location).strip()
        return text("reminders", self.kind, lang, what=what, due=self.due.isoformat(), days=self.days)


def instruments_with_due(org: Organization, today: date) -> QuerySet[Instrument]:
    """The organization's in-use instruments, each annotated with its ``state`` and ``valid_until`` by the
    core's rule (records dated after ``today`` do not count; a failure after the pass voids it)."""
    return validity.with_state(
        Instrument.objects.filter(organization=org, archived=False, status="in_use"),
        today,
        validity.due_soon_days(org),
    ).order_by("code")


def dues(org: Organization, today: date, lead_days: tuple[int, ...]) -> list[Due]:
    """What to tell about ``org`` on ``today``: traceable and due in exactly one of ``lead_days`` days, or
    expired.  Failed (voided) and never-verified instruments are not reminders' business."""
    wanted = {today + timedelta(days=n) for n in lead_days if n >= 0}
    out = []
    for inst in instruments_with_due(org, today):
        due: date | None = getattr(inst, "valid_until", None)
        current: str = getattr(inst, "state", "")
        if due is None:
            continue
        if current == "expired":
            out.append(Due(inst, "overdue", due, (due - today).days))
        elif current in TRACEABLE_STATES and due in wanted:
            out.append(Due(inst, "due", due, (due - today).days))
    return out


def recipients(org: Organization) -> list[Any]:
    """Active users holding a recipient role in ``org`` (one entry per user)."""
    return list(
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__organization=org,
            memberships__archived=False,
            memberships__role__in=RECIPIENT_ROLES,
        )
        .distinct()
        .order_by("pk")
    )


def _notify(user: Any, org: Organization, items: list[Due]) -> list[Due]:
    """Write ``user``'s notifications for ``items``; return those that are new to the user (created, or
    renewed for a second lead time).  An existing "overdue" row, or one with the same text, is left alone."""
    existing = {
        (n.instrument_id, n.kind, n.due): n
        for n in Notification.objects.filter(
            user=user, organization=org, due__in={d.due for d in items}, kind__in={d.kind for d in items}
        )
    }
    new = []
    for d in items:
        text = d.message()
        row = existing.get((d.instrument.pk, d.kind, d.due))
        if row is None:
            row = Notification(
                user=user, organization=org, instrument=d.instrument, kind=d.kind, due=d.due, message=text
            )
        elif d.kind == "overdue" or row.message == text:
            continue
        else:
            row.message, row.read, row.archived = text, False, False
        row._change_reason = REASON
        row.save()
        new.append(d)
    return new


def _mail(user: Any, org: Organization, items: list[Due]) -> None:
    """One e-mail listing ``items`` (overdue first), in the reminders' language."""
    overdue = [d for d in items if d.kind == "overdue"]
    due = [d for d in items if d.kind == "due"]
    lines = [text("reminders", "greeting", LANG, name=user.get_full_name() or user.get_username()), ""]
    if overdue:
        lines += [
            text("reminders", "overdue_head", LANG, n=len(overdue)),
            *(f"  · {d.message()}" for d in overdue),
        ]
        lines.append("")
    if due:
        lines += [text("reminders", "due_head", LANG, n=len(due)), *(f"  · {d.message()}" for d in due)]
        lines.append("")
    lines.append(text("reminders", "organization", LANG, org=org.name))
    lines.append(text("reminders", "footer", LANG))
    subject = text("reminders", "subject", LANG, org=org.name, overdue=len(overdue), due=len(due))
    send_mail(subject, "\n".join(lines), None, [user.email], fail_silently=False)


def send_reminders(today: date | None = None) -> int:
    """Notify every organization's recipients of what is due or overdue on ``today`` (default: the local
    date in ``TIME_ZONE``).  Returns the number of notifications created or renewed (0 on a re-run).

    Each recipient's notifications and e-mail are one transaction: when the mail server refuses, that
    recipient's rows are rolled back, so re-running the day (``send_reminders --today``) tells them again.
    The other recipients are still served; the run then raises :class:`ReminderDeliveryError` so the
    failure shows in django-q's failed tasks.
    """
    day = today or timezone.localdate()
    lead_days = tuple(sorted(set(settings.CARBONMETER_REMINDER_DAYS)))
    written = 0
    failed: list[str] = []
    for org in Organization.objects.filter(archived=False).order_by("pk"):
        items = dues(org, day, lead_days)
        if not items:
            continue
        for user in recipients(org):
            try:
                with transaction.atomic():
                    new = _notify(user, org, items)
                    if new and user.email:
                        _mail(user, org, new)
            except Exception:
                logger.exception("reminders for %s (%s) not delivered", user.get_username(), org.name)
                failed.append(f"{user.get_username()}@{org.pk}")
                continue
            written += len(new)
    if failed:
        raise ReminderDeliveryError(f"reminders not delivered to: {', '.join(failed)}")
    logger.info("reminders for %s: %d notifications", day.isoformat(), written)
    return written
