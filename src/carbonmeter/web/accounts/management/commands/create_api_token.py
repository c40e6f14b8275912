"""``manage.py create_api_token USER --name NAME [--days N]``: issue a REST API key acting as USER.

The key is printed once, alone on stdout (so ``KEY=$(manage.py create_api_token …)`` works), and only its
sha256 is stored.  ``--list`` shows the user's tokens and ``--revoke ID`` archives one, with a reason.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from carbonmeter.web.accounts.models import ApiToken


class Command(BaseCommand):
    help = "Issue (or list, or revoke) REST API tokens of a user; a token can do exactly what its user can."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for, e.g. 'ERP export'")
        parser.add_argument("--days", type=int, help="expires after this many days (default: never)")
        parser.add_argument("--list", action="store_true", help="list the user's live tokens instead")
        parser.add_argument("--revoke", type=int, metavar="ID", help="archive token ID of the user instead")
        parser.add_argument("--reason", default="revoked by command", help="why it is revoked (history)")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = get_user_model().objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"no user {opts['username']!r}")
        if opts["list"]:
            self._list(user)
        elif opts["revoke"] is not None:
            self._revoke(user, opts["revoke"], opts["reason"])
        else:
            self._issue(user, opts["name"].strip(), opts["days"])

    def _list(self, user: Any) -> None:
        for t in ApiToken.objects.filter(user=user, archived=False).order_by("id"):
            expires = t.expires.isoformat() if t.expires else "never"
            used = t.last_used.isoformat() if t.last_used else "never"
            self.stdout.write(
                f"{t.pk}\t{t.name}\tcreated {t.created_at:%Y-%m-%d}\texpires {expires}\tused {used}"
            )

    def _revoke(self, user: Any, pk: int, reason: str) -> None:
        token = ApiToken.objects.filter(user=user, archived=False, pk=pk).first()
        if token is None:
            raise CommandError(f"user {user.username!r} has no live token {pk}")
        token.archive(reason)
        self.stderr.write(f"token {token.pk} ({token.name}) revoked")

    def _issue(self, user: Any, name: str, days: int | None) -> None:
        if not name:
            raise CommandError("--name is required: say what the token is for")
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1")
        if not user.is_active:
            raise CommandError(f"user {user.username!r} is inactive: its tokens would be refused")
        expires = timezone.now() + timedelta(days=days) if days else None
        token, key = ApiToken.issue(user, name, expires)
        self.stderr.write(f"token {token.pk} for {user.username}: store the key now, it is not shown again")
        self.stdout.write(key)
