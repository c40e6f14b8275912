"""``manage.py send_reminders [--today YYYY-MM-DD]``: run the reminder job once, e.g. to re-run a missed day.

The daily schedule (``setup_schedules``) calls the same function; a re-run tells nobody anything twice.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carbonmeter.web.metrology.reminders import ReminderDeliveryError, send_reminders


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise CommandError(f"--today: not a date (YYYY-MM-DD): {value!r}") from e


class Command(BaseCommand):
    help = "检定/校准到期提醒：站内通知并发送邮件（默认以今天为准）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="run as of this date (YYYY-MM-DD); default: today in TIME_ZONE")

    def handle(self, *args: Any, **opts: Any) -> None:
        today = _day(opts["today"]) if opts.get("today") else None
        try:
            written = send_reminders(today)
        except ReminderDeliveryError as e:
            raise CommandError(str(e)) from e
        self.stdout.write(f"已写入 {written} 条提醒")
