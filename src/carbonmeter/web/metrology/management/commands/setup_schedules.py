"""``manage.py setup_schedules [--at HH:MM]``: create or update the django-q2 schedules the product needs.

Idempotent (matched by name), so deployment scripts run it on every release instead of a data migration:
a migration would run once and could not follow a changed task path.  Today there is one schedule,
"检定到期提醒", daily, calling :func:`carbonmeter.web.metrology.reminders.send_reminders`.  ``manage.py
qcluster`` executes it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django_q.models import Schedule

from carbonmeter.web.metrology.reminders import TASK

NAME = "检定到期提醒"
DEFAULT_AT = time(7, 0)


def _time(value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError as e:
        raise CommandError(f"--at: not a time (HH:MM): {value!r}") from e


def next_run(at: time, now: datetime | None = None) -> datetime:
    """The next ``at`` o'clock in ``TIME_ZONE`` after ``now`` (aware)."""
    now = timezone.localtime(now or timezone.now())
    run = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return run if run > now else run + timedelta(days=1)


class Command(BaseCommand):
    help = "创建或更新定时任务（检定到期提醒，每日执行）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--at",
            help="local time of the daily run (HH:MM); default 07:00 for a new schedule, kept otherwise",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        at = _time(opts["at"]) if opts.get("at") else None
        schedule = Schedule.objects.filter(name=NAME).order_by("pk").first()
        created = schedule is None
        if schedule is None:
            schedule = Schedule(name=NAME)
        schedule.func = TASK
        schedule.args = None
        schedule.kwargs = None
        schedule.schedule_type = Schedule.DAILY
        schedule.repeats = -1
        if created or at is not None:
            schedule.next_run = next_run(at or DEFAULT_AT)
        schedule.save()
        # A duplicate left by hand would run the job twice a day (harmless, but noisy): remove it.
        Schedule.objects.filter(name=NAME).exclude(pk=schedule.pk).delete()
        verb = "已创建" if created else "已更新"
        self.stdout.write(
            f"{verb}定时任务「{NAME}」：每日 {timezone.localtime(schedule.next_run):%H:%M} 执行 {TASK}"
        )
