"""Read-side queries of the registry pages: the register (Table B.1), the dashboard, one instrument.

Every queryset starts from :func:`~carbonmeter.web.accounts.scope.scope_for`, so a page cannot show a row
its user may not read.  The register has to stay fast at 10,000 instruments: it is one annotated queryset
(the validity of each instrument is a correlated subquery, its due state a ``CASE`` on it), filtered,
sorted and paginated by the database; the measuring points are prefetched for the shown page only.

Validity is the ``valid_until`` of the instrument's latest passing verification/calibration record (by
date).  The due state counts an instrument as overdue also when a failed record dated after that pass (and
not after today) voids it (6.3.7, contract §5.4), the same rule as the verification plan
(:mod:`carbonmeter.web.metrology.services`), so the dashboard, the register and the plan agree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final, Literal

from django.db.models import (
    Case,
    CharField,
    DateField,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import OrderBy

from carbonmeter.rules.loader import PackError, load_pack
from carbonmeter.rules.messages import Lang, label_text
from carbonmeter.web.accounts.scope import scope_for, writable_orgs
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry.models import (
    Attachment,
    Component,
    Instrument,
    MeasuringPoint,
    Organization,
    SealEvent,
)

DueState = Literal["overdue", "due30", "due60", "due90", "ok", "never"]

#: Due states as day offsets from today, both ends inclusive (None = open).  The register's filter, its
#: badges and the dashboard's counts are all built from this one table, so they always agree.
DUE_BANDS: Final[dict[DueState, tuple[int | None, int | None]]] = {
    "overdue": (None, -1),
    "due30": (0, 30),
    "due60": (31, 60),
    "due90": (61, 90),
    "ok": (91, None),
}
DUE_STATES: Final[tuple[DueState, ...]] = (*DUE_BANDS, "never")

#: Register columns that may be sorted on (GET ``sort``, ``-`` prefix for descending) → model field or
#: annotation.  Anything else is ignored, so a crafted ``sort`` cannot reach other fields.
SORTS: Final[dict[str, str]] = {
    "code": "code",
    "name": "name",
    "model": "model",
    "accuracy": "accuracy_class",
    "range": "measuring_range",
    "manufacturer": "manufacturer",
    "serial": "serial_no",
    "asset": "asset_no",
    "location": "location",
    "points": "first_point",
    "status": "status",
    "valid_until": "valid_until",
}
#: Fields the free-text search looks in (a term must match one of them; every term must match).
SEARCH_FIELDS: Final[tuple[str, ...]] = (
    "code",
    "name",
    "model",
    "serial_no",
    "asset_no",
    "location",
    "manufacturer",
)


def due_q(state: DueState, today: date) -> Q:
    """The condition for one due state on :func:`with_validity`'s annotations (the SQL of the rule)."""
    if state == "never":
        return Q(valid_until__isnull=True)
    if state == "overdue":
        return Q(valid_until__isnull=False) & (Q(valid_until__lt=today) | Q(latest_result="fail"))
    lo, hi = DUE_BANDS[state]
    q = Q(latest_result="pass")
    if lo is not None:
        q &= Q(valid_until__gte=today + timedelta(days=lo))
    if hi is not None:
        q &= Q(valid_until__lte=today + timedelta(days=hi))
    return q


def due_state(valid_until: date | None, today: date, voided: bool = False) -> DueState:
    """The due state of one instrument (the same rule as :func:`due_q`, in Python)."""
    if valid_until is None:
        return "never"
    if voided:
        return "overdue"
    days = (valid_until - today).days
    for state, (lo, hi) in DUE_BANDS.items():
        if (lo is None or days >= lo) and (hi is None or days <= hi):
            return state
    raise AssertionError("DUE_BANDS must cover every day")  # pragma: no cover


def with_validity(qs: QuerySet[Instrument], today: date) -> QuerySet[Instrument]:
    """Annotate ``valid_until`` (of the latest passing live record), ``latest_result`` and ``due``.

    ``latest_result`` is the result of the newest record among the passes and the failures up to today,
    a pass winning a tie: it is ``"fail"`` exactly when a failure dated after the latest pass voids it.
    Two correlated subqueries per instrument, so a filter on the due state stays cheap at 10,000
    instruments; ``due`` (a :data:`DueState`, a ``CASE`` over them) is meant for the rows shown.  The
    records are correlated to instruments the caller has scoped, so they need no scope of their own.
    """
    records = Calibration.objects.filter(instrument=OuterRef("pk"), archived=False)
    passes = records.filter(result="pass").order_by("-date", "-id")
    latest = records.filter(Q(result="pass") | Q(result="fail", date__lte=today)).order_by("-date", "-result")
    return qs.annotate(
        valid_until=Subquery(passes.values("valid_until")[:1], output_field=DateField()),
        latest_result=Subquery(latest.values("result")[:1], output_field=CharField()),
    ).annotate(
        due=Case(
            *(When(due_q(state, today), then=Value(state)) for state in DUE_STATES),
            default=Value("never"),
            output_field=CharField(),
        )
    )


# --- the register (Table B.1) ------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterFilter:
    """What the register is asked for; values are already validated by the form."""

    q: str = ""
    status: str = ""
    type: str = ""
    due: str = ""
    sort: str = "code"


def ordering(sort: str) -> list[OrderBy | str]:
    """ORDER BY for a whitelisted ``sort`` key; unknown keys sort by code. Code and id break ties, so a
    page boundary never moves between two requests."""
    key = sort.removeprefix("-")
    column = SORTS.get(key, "code")
    descending = sort.startswith("-") and key in SORTS
    expr = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_first=True)
    return [expr, "code", "pk"]


def register(user: Any, org: Organization, f: RegisterFilter, today: date) -> QuerySet[Instrument]:
    """The organization's instruments as the register shows them: filtered, annotated, sorted, lazy.

    The caller paginates it (the database does the LIMIT); the points of the rows fetched are loaded by
    one prefetch query, whatever the page size.
    """
    qs = with_validity(scope_for(user, Instrument).filter(organization=org), today)
    for term in f.q.split():
        match = Q()
        for name in SEARCH_FIELDS:
            match |= Q(**{f"{name}__icontains": term})
        qs = qs.filter(match)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.type:
        qs = qs.filter(type=f.type)
    if f.due in DUE_STATES:
        qs = qs.filter(due_q(f.due, today))
    if f.sort.removeprefix("-") == "points":
        through = Instrument.points.through.objects.filter(
            instrument_id=OuterRef("pk"), measuringpoint__archived=False
        ).order_by("measuringpoint__code")
        qs = qs.annotate(first_point=Subquery(through.values("measuringpoint__code")[:1]))
    points = scope_for(user, MeasuringPoint).order_by("code")
    return qs.prefetch_related(Prefetch("points", queryset=points)).order_by(*ordering(f.sort))


def instrument_types(user: Any, org: Organization) -> list[str]:
    """The instrument types present in the organization, for the type filter."""
    qs = scope_for(user, Instrument).filter(organization=org).exclude(type="")
    return list(qs.order_by("type").values_list("type", flat=True).distinct())


# --- the dashboard -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    """One Table A.1 row of a run: the rate and the required rate in %, or None where nothing is required."""

    row: str
    label: str
    required: int
    equipped: int
    rate_pct: float | None
    required_rate_pct: float
    passed: bool


@dataclass(frozen=True)
class ClauseCount:
    clause: str
    title: str
    nonconformities: int
    observations: int


@dataclass
class Dashboard:
    run: AssessmentRun | None
    rates: list[RateRow] = field(default_factory=list)
    clauses: list[ClauseCount] = field(default_factory=list)
    due: dict[str, int] = field(default_factory=dict)

    def chart(self) -> dict[str, Any]:
        """The bar chart's data: labels, rate and required rate in % (None: nothing required, shown "—")."""
        return {
            "labels": [r.label for r in self.rates],
            "rate": [r.rate_pct for r in self.rates],
            "required": [r.required_rate_pct for r in self.rates],
            "counts": [f"{r.equipped}/{r.required}" for r in self.rates],
        }


def latest_run(user: Any, org: Organization) -> AssessmentRun | None:
    """The organization's most recent assessment the user may read."""
    return scope_for(user, AssessmentRun).filter(organization=org).order_by("-created_at", "-pk").first()


def may_run_assessment(user: Any, org: Organization) -> bool:
    """Whether ``user`` may record an assessment run for ``org`` (verifiers and regulators only read)."""
    return writable_orgs(user, AssessmentRun.write_roles).filter(pk=org.pk).exists()


def _pct(x: float | None) -> float | None:
    return None if x is None else round(x * 100, 1)


def _clause_key(clause: str) -> tuple[int, ...]:
    """6.3.10 after 6.3.9; annex clauses (A.x, B.x) after the body."""
    head = clause.replace("A.", "100.").replace("B.", "200.")
    return tuple(int(p) for p in head.split(".") if p.isdigit())


def _clause_titles(run: AssessmentRun, lang: Lang) -> dict[str, str]:
    """Clause titles from the pack version the run used (the current version if that one is gone)."""
    for ref in (f"{run.pack_id}@{run.pack_version}", run.pack_id):
        try:
            pack = load_pack(ref)
        except PackError:
            continue
        return {k: (c.en if lang == "en" else c.zh) for k, c in pack.clauses.items()}
    return {}


def rates(run: AssessmentRun, lang: Lang) -> list[RateRow]:
    return [
        RateRow(
            row=r["row"],
            label=label_text(f"row.{r['row']}", lang),
            required=r["required"],
            equipped=r["equipped"],
            rate_pct=_pct(r["rate"]) if r["required"] else None,
            required_rate_pct=_pct(r["required_rate"]) or 0.0,
            passed=bool(r["pass"]),
        )
        for r in run.document["equipping"]
    ]


def findings_by_clause(run: AssessmentRun, lang: Lang) -> list[ClauseCount]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in run.document["findings"]:
        counts[f["clause"]][0 if f["severity"] == "nonconformity" else 1] += 1
    titles = _clause_titles(run, lang) if counts else {}
    return [
        ClauseCount(clause, titles.get(clause, ""), nc, obs)
        for clause, (nc, obs) in sorted(counts.items(), key=lambda kv: _clause_key(kv[0]))
    ]


def due_counts(user: Any, org: Organization, today: date) -> dict[str, int]:
    """In-use instruments per due state: one query of two dates/results per instrument, counted here
    (a filtered COUNT per state would repeat the correlated subqueries once per state)."""
    qs = with_validity(scope_for(user, Instrument).filter(organization=org, status="in_use"), today)
    counts: dict[str, int] = dict.fromkeys(DUE_STATES, 0)
    for valid_until, latest in qs.values_list(F("valid_until"), F("latest_result")):
        counts[due_state(valid_until, today, voided=latest == "fail")] += 1
    return counts


def dashboard(user: Any, org: Organization, run: AssessmentRun | None, today: date, lang: Lang) -> Dashboard:
    """What the dashboard shows: the run's rates and findings (if any) and today's due counts."""
    board = Dashboard(run=run, due=due_counts(user, org, today))
    if run is not None:
        board.rates = rates(run, lang)
        board.clauses = findings_by_clause(run, lang)
    return board


# --- one instrument ----------------------------------------------------------------------------------


def find_instrument(user: Any, code: str, current: Organization) -> Instrument | None:
    """The instrument ``code`` among those the user may read, the current organization's first.

    Codes are unique within an organization only; a label scanned by a user who reads several
    organizations still opens the right one when the code is unique among them.
    """
    qs = scope_for(user, Instrument).filter(code=code).select_related("organization")
    first = Case(When(organization_id=current.pk, then=Value(0)), default=Value(1))
    return qs.annotate(here=first).order_by("here", "organization_id").first()


@dataclass
class InstrumentPage:
    instrument: Instrument
    valid_until: date | None
    #: A failed record after the latest pass: the instrument is no longer traceable (6.3.7).
    voided: bool
    components: list[Component]
    points: list[MeasuringPoint]
    calibrations: list[Calibration]
    seals: list[SealEvent]
    attachments: list[Attachment]
    history: list[dict[str, Any]]


#: History entries shown (newest first); older ones stay in the admin's history view.
HISTORY_SHOWN: Final = 100
_HISTORY_HIDDEN: Final = frozenset({"id", "created_at", "updated_at", "organization"})


def _plain(value: Any) -> str:
    """A stored value as text a person reads: "—" for blanks, ✓/✗ for booleans, a list joined by 、, a
    mapping as ``key：value`` pairs (JSON fields hold data from the user's own workbook, never braces)."""
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, dict):
        return "；".join(f"{k}：{_plain(v)}" for k, v in sorted(value.items()))
    if isinstance(value, list | tuple):
        return "、".join(_plain(v) for v in value)
    return str(value)


def _shown(inst: Instrument, name: str, value: Any) -> str:
    """A history value as the page shows it: choice labels, ✓/✗ for booleans, "—" for blanks, JSON values
    as text (a dict or list is not hashable, so it never goes near the choices)."""
    if isinstance(value, dict | list):
        return _plain(value)
    choices = dict(getattr(inst._meta.get_field(name), "choices", None) or ())
    return _plain(choices.get(value, value))


def _field_changes(inst: Instrument, name: str, old: Any, new: Any) -> list[dict[str, str]]:
    """One line per changed field; a JSON mapping (``extra``) one line per changed key, so a re-import
    that adds a column shows that column and not the whole mapping twice."""
    label = str(getattr(inst._meta.get_field(name), "verbose_name", name))
    if isinstance(old, dict | None) and isinstance(new, dict | None) and (old or new):
        before, after = old or {}, new or {}
        return [
            {"field": f"{label} · {key}", "old": _plain(before.get(key)), "new": _plain(after.get(key))}
            for key in sorted(before.keys() | after.keys())
            if before.get(key) != after.get(key)
        ]
    return [{"field": label, "old": _shown(inst, name, old), "new": _shown(inst, name, new)}]


def change_history(inst: Instrument) -> list[dict[str, Any]]:
    """The instrument's changes, newest first: who, when, what changed (old → new), why."""
    records = list(inst.history.select_related("history_user").order_by("-history_date", "-history_id"))
    records = records[: HISTORY_SHOWN + 1]
    out: list[dict[str, Any]] = []
    for new, old in zip(records, [*records[1:], None], strict=True):
        if len(out) == HISTORY_SHOWN:
            break
        changes = []
        if old is not None:
            delta = new.diff_against(old)
            for c in delta.changes:
                if c.field not in _HISTORY_HIDDEN:
                    changes += _field_changes(inst, c.field, c.old, c.new)
        out.append(
            {
                "when": new.history_date,
                "who": new.history_user,
                "type": new.history_type,
                "reason": new.history_change_reason or "",
                "changes": changes,
            }
        )
    return out


def instrument_page(user: Any, inst: Instrument, today: date) -> InstrumentPage:
    """Everything the instrument page shows, each list from the user's scope."""
    own = {"instrument": inst}
    calibrations = list(scope_for(user, Calibration).filter(**own).order_by("-date", "-id"))
    last = next((c for c in calibrations if c.result == "pass"), None)
    voided = last is not None and any(
        c.result == "fail" and last.date < c.date <= today for c in calibrations
    )
    return InstrumentPage(
        instrument=inst,
        valid_until=last.valid_until if last else None,
        voided=voided,
        components=list(scope_for(user, Component).filter(**own).order_by("id")),
        points=list(
            scope_for(user, MeasuringPoint).filter(instruments=inst).select_related("stream").order_by("code")
        ),
        calibrations=calibrations,
        seals=list(scope_for(user, SealEvent).filter(**own).order_by("-date", "-id")),
        attachments=list(scope_for(user, Attachment).filter(**own).order_by("kind", "title")),
        history=change_history(inst),
    )


# --- the label ---------------------------------------------------------------------------------------

LabelState = Literal["qualified", "limited", "stopped"]


@dataclass(frozen=True)
class Label:
    instrument: Instrument
    state: LabelState
    valid_until: date | None


def label_state(status: str, traceable: bool, by_calibration: bool) -> LabelState:
    """The three-colour label of common metrology practice.

    * 停用 (red): not in use or standby (stopped, sealed, scrapped), or not traceable today (never
      verified, expired, or a failed record after the last pass);
    * 准用 (yellow): traceable through a calibration (校准) rather than a verification (检定): the
      certificate gives results, the user has confirmed them fit for the use;
    * 合格 (green): traceable through a passed verification.
    """
    if status not in ("in_use", "standby") or not traceable:
        return "stopped"
    return "limited" if by_calibration else "qualified"


def instrument_label(user: Any, inst: Instrument, today: date) -> Label:
    """The label of one instrument, judged today with the contract's traceability rule (§5.4)."""
    records = scope_for(user, Calibration).filter(instrument=inst, date__lte=today).order_by("-date", "-id")
    last_pass = records.filter(result="pass").first()
    failed_after = last_pass is not None and records.filter(result="fail", date__gt=last_pass.date).exists()
    valid_until = last_pass.valid_until if last_pass else None
    traceable = bool(last_pass and valid_until and valid_until >= today and not failed_after)
    by_calibration = bool(last_pass and last_pass.kind == "calibration")
    return Label(inst, label_state(inst.status, traceable, by_calibration), valid_until)
