"""When the registry last changed: the newest history entry of the registry and metrology rows.

Every write to these rows goes through ``save()`` (:class:`~carbonmeter.web.base.BaseModel`: the admin, the
import, the pages' services), so django-simple-history writes an entry with its time; the history tables
are the change log, and no second log or signal is needed.  Two questions are asked of it:

* :func:`version`: a token that changes whenever any tracked row of any organization changes (the newest
  ``history_date`` of each table, each read from its index).  Figures cached under it are recomputed after
  any change and never served stale, whoever made the change and in whichever process.
* :func:`changed_after`: the newest change of one organization's rows after a moment (an assessment's
  time), or None: the dashboard marks its assessment stale when there is one.

The reminders log (:class:`~carbonmeter.web.metrology.models.Notification`) is not registry data and is not
tracked.  An instrument's links to its points are part of its history (its m2m history; the import and the
API link through :func:`carbonmeter.web.registry.services.set_points`), so a change of links alone is an
entry both questions see.  :func:`version` also counts the links, so a link written by any other path still
changes the token.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache
from typing import Any, Final

from django.apps import apps
from django.db import connection
from django.db.models import Model

from carbonmeter.web.base import BaseModel
from carbonmeter.web.registry.models import Instrument

#: Apps whose rows make up the registry an assessment reads.
APPS: Final = ("registry", "metrology")
#: Models of those apps that are not registry data (``app_label.ModelName``).
UNTRACKED: Final = frozenset({"metrology.Notification"})
#: History entries read at a time by :func:`changed_after`.
CHUNK: Final = 1000


@cache
def tracked() -> tuple[tuple[type[Model], str], ...]:
    """(historical model, lookup from a history row to its organization's pk) of every tracked model."""
    out = []
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            if not issubclass(model, BaseModel) or model._meta.label in UNTRACKED:
                continue
            path = model.org_path
            if path is None:
                continue
            out.append((model.history.model, path or "id"))
    return tuple(out)


def version() -> str:
    """A token of the whole registry's state: the newest history time of every tracked table, and the
    count and newest id of the instrument–point links.

    One statement: each ``MAX`` is answered from an index, so it costs about as much as a primary-key
    lookup whatever the size of the registry; the links' ``COUNT`` reads one index.
    """
    quote = connection.ops.quote_name
    parts = [f"(SELECT MAX({quote('history_date')}) FROM {quote(h._meta.db_table)})" for h, _ in tracked()]
    # Links of instruments to points, however written (see the module's note): their count and newest id
    # change with every link added or removed.
    links = quote(Instrument.points.through._meta.db_table)
    parts += [f"(SELECT COUNT(*) FROM {links})", f"(SELECT MAX({quote('id')}) FROM {links})"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}")
        row = cursor.fetchone()
    return hashlib.sha256(repr(tuple(str(v) for v in row)).encode()).hexdigest()[:24]


def changed_after(org_pk: int, since: datetime) -> datetime | None:
    """The newest change to the organization's registry rows after ``since``, or None if none.

    Each table is read from its ``history_date`` index, newest first, and only back to ``since``: a table
    with no entry after it costs one index probe, and one with entries stops at the organization's newest.
    (Filtering on the organization instead lets the database walk all of its rows — half a second at
    10,000 instruments.)
    """
    newest: datetime | None = None
    for history, lookup in tracked():
        rows: Any = history._default_manager.filter(history_date__gt=since).order_by("-history_date", "-pk")
        rows = rows.values_list(lookup, "history_date")
        start = 0
        while True:
            chunk = list(rows[start : start + CHUNK])
            when = next((when for owner, when in chunk if owner == org_pk), None)
            if when is not None:
                newest = when if newest is None or when > newest else newest
                break
            if len(chunk) < CHUNK:
                break
            start += CHUNK
    return newest
