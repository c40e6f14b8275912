"""An instrument's verification state, for every page, the label, the plan, the dashboard, the API and the
reminders: the core's rule (:mod:`carbonmeter.core.traceability`), never restated.

Two ways in, proven equal by a property test over random calibration histories on SQLite and PostgreSQL
(``tests/web/test_validity.py``):

* :func:`standing` — one instrument: its rows go through :func:`~carbonmeter.core.traceability.trace`
  itself;
* :func:`with_state` — a queryset: the same rule as one ORM annotation (correlated subqueries and a
  ``CASE``), so the register filters, sorts and paginates 10,000 instruments in the database.

The SQL translation of :func:`~carbonmeter.core.traceability.trace`, per instrument, over its live
records dated on or before today:

* ``latest`` — the newest pass by (date, validity end, a stated validity first);
* ``covering`` — the newest pass whose ``valid_until`` is today or later;
* ``last_fail`` — the newest failure;
* never: no ``latest``; traceable: a ``covering`` with no failure dated after it; failed (voided): a
  failure dated after ``latest``; expired: otherwise.

"Due soon" is the rule pack's ``verification_due_soon_days`` (:func:`due_soon_days`); the register's
30/60/90-day bands are display only (``settings.CARBONMETER_DUE_BANDS``, :func:`band_q`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final, Literal

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateField,
    Exists,
    Expression,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThanOrEqual
from django.utils.functional import lazy
from django.utils.translation import get_language, gettext

from carbonmeter.core.traceability import STATES, TRACEABLE_STATES, State, due_date, state, trace
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import Lang, label_text
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry.models import Instrument, Organization

LabelState = Literal["qualified", "limited", "stopped"]


def due_soon_days(org: Organization) -> int | None:
    """The organization's pack horizon for "due soon" (``settings.verification_due_soon_days``)."""
    value: int | None = load_pack(org.pack_ref).settings.verification_due_soon_days.value
    return value


def state_label(value: str, lang: Lang | None = None) -> str:
    """The catalogue's words for a state (``labels.state`` in ``rules/messages.yaml``), in ``lang`` or
    the active language."""
    return label_text(f"state.{value}", lang or active_lang())


def active_lang() -> Lang:
    return "en" if (get_language() or "").startswith("en") else "zh"


#: ``(state, label)`` in the order of :data:`~carbonmeter.core.traceability.STATES`; the labels are
#: looked up in the catalogue when shown, in the language of the request.
STATE_CHOICES: Final[list[tuple[str, Any]]] = [(s, lazy(state_label, str)(s)) for s in STATES]


# --- one instrument ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """One instrument's verification state today and the records that decided it."""

    state: State
    #: The end of the covering pass (traceable) or of the last pass (expired, failed); None: never.
    valid_until: date | None
    #: The deciding passing record (covering, or the last one), and the failure that voided it.
    record: Calibration | None
    failure: Calibration | None

    @property
    def traceable(self) -> bool:
        return self.state in TRACEABLE_STATES


def standing(records: Sequence[Calibration], today: date, horizon: int | None) -> Standing:
    """The state of one instrument from its live records (any order), by the core's rule."""
    t = trace(records, today)
    return Standing(state(t, today, horizon), due_date(t), t.record, t.failure)


# --- a queryset ----------------------------------------------------------------------------------------


def with_state(
    qs: QuerySet[Instrument], today: date, horizon: int | Mapping[int, int | None] | None
) -> QuerySet[Instrument]:
    """Annotate ``state`` (a :data:`~carbonmeter.core.traceability.State`), ``traceable`` and
    ``valid_until`` (as :class:`Standing` has them), with ``trace_kind`` and ``trace_date`` (the deciding
    pass's kind and date).

    ``horizon`` is the pack's due-soon days: one number, or one per organization id (the API lists
    several organizations).  The records are correlated to instruments the caller has scoped.
    """
    live = Calibration.objects.filter(archived=False, date__lte=today)
    records = live.filter(instrument=OuterRef("pk"))
    passes = records.filter(result="pass")
    latest = passes.annotate(_end=Coalesce("valid_until", "date")).order_by(
        "-date", "-_end", F("valid_until").desc(nulls_last=True), "-id"
    )
    covering = passes.filter(valid_until__gte=today).order_by("-date", "-valid_until", "-id")
    # Traceable: some covering pass has no failure after it (then neither has the newest one).
    voiding = live.filter(instrument=OuterRef("instrument"), result="fail", date__gt=OuterRef("date"))
    ok = Exists(passes.filter(valid_until__gte=today).filter(~Exists(voiding)))
    # Failed: a failure dated after every pass (after the newest one).
    repassed = live.filter(instrument=OuterRef("instrument"), result="pass", date__gte=OuterRef("date"))
    failed = Exists(records.filter(result="fail").filter(~Exists(repassed)))
    covering_until = Subquery(covering.values("valid_until")[:1], output_field=DateField())
    soon: Any = LessThanOrEqual(covering_until, _soon_until(today, horizon))
    # Each condition appears once per expression and SQL's CASE stops at the first match, so a filter
    # or a sort on the state costs a few index probes per instrument.
    return qs.annotate(
        traceable=Case(When(ok, then=Value(True)), default=Value(False), output_field=BooleanField()),
        state=Case(
            When(~Exists(passes), then=Value("never")),
            When(ok, then=Case(When(soon, then=Value("due_soon")), default=Value("valid"))),
            When(failed, then=Value("failed")),
            default=Value("expired"),
            output_field=CharField(),
        ),
        valid_until=Case(
            When(ok, then=covering_until),
            default=Subquery(latest.values("valid_until")[:1]),
            output_field=DateField(),
        ),
        trace_date=Case(
            When(ok, then=Subquery(covering.values("date")[:1])),
            default=Subquery(latest.values("date")[:1]),
            output_field=DateField(),
        ),
        trace_kind=Case(
            When(ok, then=Subquery(covering.values("kind")[:1])),
            default=Subquery(latest.values("kind")[:1]),
            output_field=CharField(),
        ),
    )


def _soon_until(today: date, horizon: int | Mapping[int, int | None] | None) -> Expression | Value:
    """The last day that is "due soon" (a date before today when nothing is: the horizon is off)."""

    def last(h: int | None) -> date:
        return today + timedelta(days=h) if h is not None else today - timedelta(days=1)

    if horizon is None or isinstance(horizon, int):
        return Value(last(horizon), output_field=DateField())
    whens = [When(organization_id=org, then=Value(last(h))) for org, h in horizon.items()]
    return Case(*whens, default=Value(last(None)), output_field=DateField())


def horizons(orgs: Iterable[Organization]) -> dict[int, int | None]:
    """Each organization's due-soon horizon, for :func:`with_state` over several organizations."""
    return {o.pk: due_soon_days(o) for o in orgs}


def state_q(value: str) -> Q:
    """The condition for one state on :func:`with_state`'s annotations."""
    return Q(state=value)


# --- display bands (settings.CARBONMETER_DUE_BANDS) -----------------------------------------------------


#: The band keys: ``within_30``, ``within_60`` … one per configured bound.
def bands() -> list[tuple[str, int, int]]:
    """``(key, first day, last day)`` of each display band, days from today, both inclusive: with the
    default ``30,60,90`` that is 0–30, 31–60, 61–90."""
    out, lo = [], 0
    for hi in settings.CARBONMETER_DUE_BANDS:
        out.append((f"within_{hi}", lo, hi))
        lo = hi + 1
    return out


def band_q(key: str, today: date) -> Q | None:
    """Traceable instruments whose validity ends within the band ``key`` (None: no such band)."""
    for k, lo, hi in bands():
        if k == key:
            return Q(traceable=True) & Q(
                valid_until__range=(today + timedelta(days=lo), today + timedelta(days=hi))
            )
    return None


def band_label(lo: int, hi: int) -> str:
    """「30天内到期」, 「31–60天内到期」 in the active language."""
    if lo == 0:
        return gettext("%(hi)s天内到期") % {"hi": hi}
    return gettext("%(lo)s–%(hi)s天内到期") % {"lo": lo, "hi": hi}


def band_choices() -> list[tuple[str, str]]:
    """``(key, label)`` of the display bands, for the register's filter."""
    return [(key, band_label(lo, hi)) for key, lo, hi in bands()]


def band_of(valid_until: date | None, today: date) -> str | None:
    """The display band of a traceable instrument's validity end (None: beyond the last band)."""
    if valid_until is None:
        return None
    days = (valid_until - today).days
    return next((k for k, lo, hi in bands() if lo <= days <= hi), None)


# --- the label -----------------------------------------------------------------------------------------

#: The statuses of an instrument that may carry a 合格 or 准用 label: only one in use.
LABEL_STATUSES: Final = frozenset({"in_use"})


def label_state(status: str, value: str, accuracy_ok: bool | None, restricted_range: str = "") -> LabelState:
    """The three-colour label, derived from the state.

    * 停用 (red): not in use, or not traceable today (expired, failed re-verification, no passing record);
    * 准用 (yellow): traceable, but restricted: its accuracy is below the requirement of its point (the
      latest assessment run's accuracy finding: ``accuracy_ok`` False), or the record that makes it
      traceable confirms it for a restricted range only (``restricted_range``, e.g. "0–50 t/h");
    * 合格 (green): traceable and meeting its accuracy requirement (or none applies, or not judged), over
      its whole range.
    """
    if status not in LABEL_STATUSES or value not in TRACEABLE_STATES:
        return "stopped"
    return "limited" if accuracy_ok is False or restricted_range.strip() else "qualified"


def restriction(current: Standing) -> str:
    """The restricted range of the record that makes the instrument traceable ("" when none, or when no
    record does: an expired or failed instrument's old restriction says nothing today)."""
    if not current.traceable or current.record is None:
        return ""
    return current.record.restricted_range.strip()


def label_text_of(value: LabelState, lang: Lang) -> str:
    return label_text(f"label_state.{value}", lang)


def accuracy_verdicts(document: Mapping[str, Any] | None) -> dict[str, bool | None]:
    """Instrument code → whether it meets its accuracy requirement, from an assessment document (the
    core's accuracy module on the instrument's points, as of that run); None: not judged."""
    if not document:
        return {}
    out: dict[str, bool | None] = {}
    for i in document.get("instruments", []):
        acc = i.get("accuracy") or {}
        out[str(i.get("id"))] = acc.get("pass")
    return out


__all__ = [
    "STATES",
    "LabelState",
    "Standing",
    "accuracy_verdicts",
    "band_of",
    "band_q",
    "bands",
    "due_soon_days",
    "horizons",
    "label_state",
    "label_text_of",
    "restriction",
    "standing",
    "state_label",
    "state_q",
    "with_state",
]
