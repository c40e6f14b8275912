"""Read-side queries of the registry pages: the register (Table B.1), the dashboard, one instrument.

Every queryset starts from :func:`~carbonmeter.web.accounts.scope.scope_for`, so a page cannot show a row
its user may not read.  The register has to stay fast at 10,000 instruments: it is one annotated queryset
(the validity of each instrument is a correlated subquery, its due state a ``CASE`` on it), filtered,
sorted and paginated by the database; the measuring points are prefetched for the shown page only.

An instrument's verification state (有效 / 即将到期 / 已过期 / 复检不合格 / 无合格记录) is the core's rule
(:mod:`carbonmeter.core.traceability`) through :mod:`carbonmeter.web.registry.validity`: the register's
annotation and the instrument page's own records give the same answer, and so do the label, the plan,
the dashboard's counts, the API and the reminders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from django.core.cache import cache
from django.db.models import (
    Case,
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
from django.utils import timezone

from carbonmeter.core.traceability import STATES, State
from carbonmeter.rules.loader import PackError, load_pack
from carbonmeter.rules.messages import Lang, label_text
from carbonmeter.web.accounts.scope import scope_for, writable_orgs
from carbonmeter.web.assessment.models import AssessmentRun, document_summary
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry import changes, validity
from carbonmeter.web.registry.models import (
    Attachment,
    Component,
    Instrument,
    MeasuringPoint,
    Organization,
    SealEvent,
)

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
    qs = validity.with_state(
        scope_for(user, Instrument).filter(organization=org), today, validity.due_soon_days(org)
    )
    for term in f.q.split():
        match = Q()
        for name in SEARCH_FIELDS:
            match |= Q(**{f"{name}__icontains": term})
        qs = qs.filter(match)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.type:
        qs = qs.filter(type=f.type)
    if f.due in STATES:
        qs = qs.filter(validity.state_q(f.due))
    elif (band := validity.band_q(f.due, today)) is not None:
        qs = qs.filter(band)
    if f.sort.removeprefix("-") == "points":
        through = Instrument.points.through.objects.filter(
            instrument_id=OuterRef("pk"), measuringpoint__archived=False
        ).order_by("measuringpoint__code")
        qs = qs.annotate(first_point=Subquery(through.values("measuringpoint__code")[:1]))
    points = scope_for(user, MeasuringPoint).order_by("code")
    return qs.prefetch_related(Prefetch("points", queryset=points)).order_by(*ordering(f.sort))


def instrument_types(user: Any, org: Organization, version: str | None = None) -> list[str]:
    """The instrument types present in the organization, for the type filter.

    With ``version`` (:func:`carbonmeter.web.registry.changes.version`) the list is kept in the cache
    until the registry changes: it reads every instrument of the organization.
    """
    key = f"cm:types:{org.pk}:{version}"
    types: list[str] | None = cache.get(key) if version else None
    if types is None:
        qs = scope_for(user, Instrument).filter(organization=org).exclude(type="")
        types = list(qs.order_by("type").values_list("type", flat=True).distinct())
        if version:
            cache.set(key, types, DASHBOARD_CACHE_SECONDS)
    return types


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


#: How long the dashboard's cached figures are kept at most (they are recomputed after any change anyway).
DASHBOARD_CACHE_SECONDS: Final = 24 * 3600


@dataclass
class Dashboard:
    run: AssessmentRun | None
    rates: list[RateRow] = field(default_factory=list)
    clauses: list[ClauseCount] = field(default_factory=list)
    due: dict[str, int] = field(default_factory=dict)
    #: Whole days between the run and today (0: run today); None without a run.
    age_days: int | None = None
    #: The newest change to the organization's registry after the run (admin, import, pages), or None.
    changed_at: datetime | None = None

    @property
    def stale(self) -> bool:
        """The registry changed after the run: its rates and findings may no longer hold."""
        return self.changed_at is not None

    def chart(self) -> dict[str, Any]:
        """The bar chart's data: labels, rate and required rate in % (None: nothing required, shown "—")."""
        return {
            "labels": [r.label for r in self.rates],
            "rate": [r.rate_pct for r in self.rates],
            "required": [r.required_rate_pct for r in self.rates],
            "counts": [f"{r.equipped}/{r.required}" for r in self.rates],
        }


def latest_run(user: Any, org: Organization) -> AssessmentRun | None:
    """The organization's most recent assessment the user may read, without its document.

    The document is megabytes for a large plant, and SQLite reads through it to reach the columns stored
    after it, so only the run's key and time are read here (they come first); the rest of the row, which
    never changes, is read once and then kept in the cache under that key and time.
    """
    runs = scope_for(user, AssessmentRun).filter(organization=org).order_by("-created_at", "-pk")
    head = runs.values_list("pk", "created_at").first()
    if head is None:
        return None
    key = f"cm:run:{head[0]}:{head[1].isoformat()}"
    run: AssessmentRun | None = cache.get(key)
    if run is None:
        run = AssessmentRun.objects.defer("document").get(pk=head[0])
        cache.set(key, run, DASHBOARD_CACHE_SECONDS)
    return run


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


def _summary(run: AssessmentRun) -> dict[str, Any]:
    """The run's stored summary (a run saved before summaries existed gets one made from its document)."""
    return run.summary or document_summary(run.document)


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
        for r in _summary(run)["equipping"]
    ]


def findings_by_clause(run: AssessmentRun, lang: Lang) -> list[ClauseCount]:
    counts = _summary(run)["clauses"]
    titles = _clause_titles(run, lang) if counts else {}
    return [
        ClauseCount(c["clause"], titles.get(c["clause"], ""), c["nonconformities"], c["observations"])
        for c in sorted(counts, key=lambda c: _clause_key(c["clause"]))
    ]


#: The states the dashboard counts (cards linking to the register filtered by them).
DUE_CARD_STATES: Final[tuple[State, ...]] = ("failed", "expired", "due_soon", "never")


def due_counts(user: Any, org: Organization, today: date) -> dict[str, int]:
    """In-use instruments per state (:data:`DUE_CARD_STATES`): one query of one annotated value per
    instrument, counted here (a filtered COUNT per state would repeat the correlated subqueries)."""
    qs = validity.with_state(
        scope_for(user, Instrument).filter(organization=org, status="in_use"),
        today,
        validity.due_soon_days(org),
    )
    counts: dict[str, int] = dict.fromkeys(DUE_CARD_STATES, 0)
    for value in qs.values_list(F("state"), flat=True):
        if value in counts:
            counts[value] += 1
    return counts


def _live_figures(
    user: Any, org: Organization, run: AssessmentRun | None, today: date, version: str
) -> dict[str, Any]:
    """Today's due counts and the run's staleness, which depend on the whole registry: computed once per
    state of the registry (:func:`carbonmeter.web.registry.changes.version`) and day, then read from the
    cache by every request until a row changes.  Scoping is by organization: whoever may read the
    dashboard of ``org`` reads all of its instruments."""
    made = f"{run.pk}@{run.created_at.isoformat()}" if run else "-"
    key = f"cm:dashboard:{org.pk}:{made}:{today.isoformat()}:{version}"
    figures: dict[str, Any] | None = cache.get(key)
    if figures is None:
        figures = {
            "due": due_counts(user, org, today),
            "changed_at": changes.changed_after(org.pk, run.created_at) if run else None,
        }
        cache.set(key, figures, DASHBOARD_CACHE_SECONDS)
    return figures


def dashboard(
    user: Any,
    org: Organization,
    run: AssessmentRun | None,
    today: date,
    lang: Lang,
    version: str | None = None,
) -> Dashboard:
    """What the dashboard shows: the run's rates and findings from its stored summary, how old it is and
    whether the registry changed since, and today's due counts.  ``version`` is
    :func:`carbonmeter.web.registry.changes.version` when the caller already read it."""
    figures = _live_figures(user, org, run, today, version or changes.version())
    board = Dashboard(run=run, due=figures["due"], changed_at=figures["changed_at"])
    if run is not None:
        board.rates = rates(run, lang)
        board.clauses = findings_by_clause(run, lang)
        board.age_days = (today - timezone.localdate(run.created_at)).days
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
    #: Its verification state today and the records that decided it (the core's rule).
    standing: validity.Standing
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


def _point_codes(links: Any) -> str:
    pks = [row["measuringpoint"] for row in links or ()]
    codes = dict(MeasuringPoint.objects.filter(pk__in=pks).values_list("pk", "code"))
    return _plain(sorted(codes.get(pk, str(pk)) for pk in pks))


def _field_changes(inst: Instrument, name: str, old: Any, new: Any) -> list[dict[str, str]]:
    """One line per changed field; a JSON mapping (``extra``) one line per changed key, so a re-import
    that adds a column shows that column and not the whole mapping twice."""
    label = str(getattr(inst._meta.get_field(name), "verbose_name", name))
    if name == "points":  # the m2m history: link rows ``{"instrument": pk, "measuringpoint": pk}``
        return [{"field": label, "old": _point_codes(old), "new": _point_codes(new)}]
    if name == "parent":  # 上级计量器具: the stored pk, shown as the instrument's code
        codes = dict(Instrument.objects.filter(pk__in=[old, new]).values_list("pk", "code"))
        return [{"field": label, "old": _plain(codes.get(old, old)), "new": _plain(codes.get(new, new))}]
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
    horizon = validity.due_soon_days(inst.organization)
    return InstrumentPage(
        instrument=inst,
        standing=validity.standing(calibrations, today, horizon),
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


@dataclass(frozen=True)
class Label:
    instrument: Instrument
    state: validity.LabelState
    standing: validity.Standing
    #: The assessment run whose accuracy finding decided 合格 / 准用 (None: no run judged it).
    run: AssessmentRun | None
    #: The range the record that makes it traceable confirms it for, when restricted ("" when not).
    restricted_range: str = ""

    @property
    def valid_until(self) -> date | None:
        return self.standing.valid_until


def instrument_label(user: Any, inst: Instrument, today: date) -> Label:
    """The label of one instrument, derived from its state today (:func:`validity.label_state`).

    Accuracy comes from the organization's latest assessment run: the core's accuracy module judged the
    instrument against the requirement of each point it serves there (the web holds no other judgment of
    it).  An instrument that run did not judge is taken as meeting it: the label never claims a
    restriction nobody established.
    """
    records = list(scope_for(user, Calibration).filter(instrument=inst))
    current = validity.standing(records, today, validity.due_soon_days(inst.organization))
    run = latest_run(user, inst.organization)
    accuracy = validity.accuracy_verdicts(run.document if run else None)
    ok = accuracy.get(inst.code)
    restricted = validity.restriction(current)
    label = validity.label_state(inst.status, current.state, ok, restricted)
    return Label(inst, label, current, run if inst.code in accuracy else None, restricted)
