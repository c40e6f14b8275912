"""Concurrent logins with real threads, each with its own client and database connection — in the test
process (PostgreSQL) or, for SQLite, in a subprocess on a file database (``python -m tests.web.logins``):
SQLite's in-memory test database is one shared-cache connection pool that refuses concurrent writers
outright, which is not how an installation runs (a file in WAL mode, ``BEGIN IMMEDIATE``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier
from typing import Any

ROOT = Path(__file__).parents[2]


def login(client: Any, username: str, password: str, ip: str) -> Any:
    from django.urls import reverse

    return client.post(
        reverse("login"), {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


def concurrent_logins(attempts: list[tuple[str, str, str]]) -> list[int]:
    """Post every (username, password, address) at once; the status codes in order."""
    from django.db import connections
    from django.test import Client

    barrier = Barrier(len(attempts))

    def one(args: tuple[str, str, str]) -> int:
        try:
            client = Client()
            barrier.wait(timeout=120)
            return int(login(client, *args).status_code)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(one, attempts))


def in_subprocess(home: Path, users: list[str], attempts: list[tuple[str, str, str]], **limits: int) -> Any:
    """Migrate a file SQLite database under ``home`` (the product's SQLite settings), create ``users``
    and run the attempts concurrently there; returns ``{"codes": [...], "counts": {key: count}}``."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {
        "DJANGO_SETTINGS_MODULE": "tests.web_settings",
        "CARBONMETER_HOME": str(home),
        "CARBONMETER_ALLOWED_HOSTS": "testserver",
        "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    }
    migrate = subprocess.run(
        [sys.executable, "-m", "django", "migrate", "-v0"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr
    job = json.dumps({"users": users, "attempts": attempts, "limits": limits})
    done = subprocess.run(
        [sys.executable, "-m", "tests.web.logins", job], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def main(job_text: str) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from carbonmeter.web.accounts.models import LoginThrottle
    from tests.web.conftest import PASSWORD

    job = json.loads(job_text)
    settings.LOGIN_THROTTLE = {**settings.LOGIN_THROTTLE, **job["limits"]}
    for name in job["users"]:
        get_user_model().objects.create_user(name, password=PASSWORD)
    codes = concurrent_logins([tuple(a) for a in job["attempts"]])
    counts = dict(LoginThrottle.objects.values_list("key", "count"))
    print(json.dumps({"codes": codes, "counts": counts}))


if __name__ == "__main__":
    main(sys.argv[1])
