"""Login throttling, counted atomically per username and per client address (``settings.LOGIN_THROTTLE``).

An attempt is counted *before* its password is checked, with one atomic increment per key in the database,
so twelve concurrent wrong passwords are twelve counts and only the first ``attempts`` are checked at all. A
successful login takes its counts back. The two keys have separate limits: ``attempts`` per username (a
guessed account locks only itself) and the larger ``address_attempts`` per client address (a client spraying
usernames is stopped, while the other people behind the same address — an office NAT — still log in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from carbonmeter.web.accounts.models import LoginThrottle


@dataclass(frozen=True)
class Attempt:
    """The keys one login attempt was counted under (to give back on success)."""

    keys: tuple[str, ...]
    refused: bool


def user_key(username: str) -> str:
    return "user:" + username.strip().lower()[:280]


def address_key(address: str) -> str:
    return "address:" + address[:280]


def hit(key: str, now: datetime | None = None) -> int:
    """Count one attempt under ``key`` and return the count in the current window (this one included).

    The increment is one ``UPDATE`` (``count = count + 1``) on the key's row; an expired window restarts
    only where it is still expired (a concurrent restart is not repeated), and a missing row is inserted,
    or — when another attempt inserted it first (unique key) — incremented."""
    now = now or timezone.now()
    window = timedelta(seconds=settings.LOGIN_THROTTLE["window_seconds"])
    rows = LoginThrottle.objects.filter(key=key)
    with transaction.atomic():
        counted = rows.filter(window_ends__gt=now).update(count=F("count") + 1, updated_at=now)
        restarted = counted or rows.filter(window_ends__lte=now).update(
            count=1, window_ends=now + window, updated_at=now
        )
        if not restarted:
            try:
                with transaction.atomic():
                    row = LoginThrottle(key=key, count=1, window_ends=now + window)
                    row._change_reason = "登录尝试"
                    row.save()
            except (IntegrityError, ValidationError):
                # another attempt inserted the row first: the unique key refused ours (in the database,
                # or already in full_clean's uniqueness check when the other row was committed)
                rows.update(count=F("count") + 1, updated_at=now)
        return int(rows.values_list("count", flat=True).get())


def give_back(keys: tuple[str, ...]) -> None:
    """Take an attempt's counts back (it succeeded, or was refused before its password was checked)."""
    LoginThrottle.objects.filter(key__in=keys, count__gt=0).update(count=F("count") - 1)


def reset(key: str) -> None:
    LoginThrottle.objects.filter(key=key).update(count=0)


def attempt(username: str, address: str, now: datetime | None = None) -> Attempt:
    """Count a login attempt; ``refused`` when its username or its address is over its limit (then the
    password must not be checked). The username is counted first: an attempt on a locked account is
    refused without spending the address's allowance."""
    limits = settings.LOGIN_THROTTLE
    user = user_key(username)
    if hit(user, now) > limits["attempts"]:
        return Attempt((user,), refused=True)
    address = address_key(address)
    if hit(address, now) > limits["address_attempts"]:
        give_back((user,))  # refused before the password was checked: not a failure of this account
        return Attempt((user, address), refused=True)
    return Attempt((user, address), refused=False)


def succeeded(done: Attempt) -> None:
    """A correct password: the account's failures are forgotten, the address's count gives this one back."""
    reset(done.keys[0])
    give_back(done.keys[1:])
