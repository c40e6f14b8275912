"""``/readings``: metering data — submit a batch of readings, read runs, batches, quarantine and the ledger.

``POST /readings/batch`` hands the rows to ``services.ingest`` (source ``api``), the same validator, chain
and idempotence as an upload: a bad reading is not a 422 of the whole request but a quarantined row in the
run's report, so a logger sending a hundred readings learns which one was refused and why.  The request
body is bounded (rows, text lengths, no NUL, finite numbers) so what reaches the validator is always a row
it can report on.  Path parameters are avoided: every read is a filtered, paginated list.
"""

import datetime as dt
import math
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, P, QueryEx, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import ConfigDict, Strict, StringConstraints
from pydantic.functional_validators import AfterValidator

from carbonmeter.readings.ingest import IngestError
from carbonmeter.web.accounts.scope import scope_for
from carbonmeter.web.api.access import of_organization, require_may_add, visible
from carbonmeter.web.api.auth import caller
from carbonmeter.web.api.pagination import LimitOffset
from carbonmeter.web.api.params import READ_ERRORS, WRITE_ERRORS, OrgFilter
from carbonmeter.web.api.schemas import MAX_ID, Id
from carbonmeter.web.readings import ledger, services
from carbonmeter.web.readings.models import IngestRun, QuarantinedRow, ReadingBatch
from carbonmeter.web.readings.views import RunReport
from carbonmeter.web.registry.models import Organization

router = Router(tags=["readings"])

#: Readings per request; a larger load is several requests (or a file through ``carbonmeter ingest``).
MAX_ROWS = 10_000
#: Cells of a reading (:class:`ReadingIn`) and the longest text a cell holds.
_CELLS, _CELL_CHARS = 8, 100
#: Bytes of the largest reading the schema admits, written as JSON in UTF-8: per cell its key (at most 13
#: characters, quoted, a colon and a comma: 16 bytes), its text at 3 bytes a character (Chinese) and quotes.
ROW_BYTES = _CELLS * (16 + _CELL_CHARS * 3 + 4) + 4
#: The largest body ``POST /readings/batch`` reads: ``MAX_ROWS`` of the largest readings and the other
#: fields. Django's 2.5 MB default refused a schema-valid batch of 10,000 short rows (with a 500); a body
#: beyond this is answered 413. (``\\u`` escapes take 6 bytes a character: a client sending escaped
#: Chinese in every cell sends fewer rows per request.)
MAX_BODY_BYTES = MAX_ROWS * ROW_BYTES + 4096


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    return value


Cell = Annotated[str, StringConstraints(max_length=100), AfterValidator(_no_nul)]
Text300 = Annotated[str, StringConstraints(max_length=300), AfterValidator(_no_nul)]
Text500 = Annotated[str, StringConstraints(max_length=500), AfterValidator(_no_nul)]
FiniteNumber = Annotated[float, Strict(), Field(allow_inf_nan=False)]


class ReadingIn(Schema):
    """One reading as the input columns of the contract; cells are checked by the ingest, not here."""

    model_config = ConfigDict(extra="forbid")

    point: Cell | None = Field(None, description="measuring point code (required by the ingest)")
    quantity: Cell | None = Field(None, description="quantity; default: the point profile's")
    ts: Cell | None = Field(
        None, description="ISO 8601 or 'YYYY-MM-DD HH:MM[:SS]'; without an offset: Asia/Shanghai"
    )
    value: FiniteNumber | Cell | None = Field(None, description="the value, as a number or text")
    unit: Cell | None = Field(None, description="unit; default: the quantity's canonical unit")
    sample_id: Cell | None = None
    analyzed_at: Cell | None = None
    laboratory: Cell | None = None


class BatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    organization: Id
    rows: list[ReadingIn] = Field(min_length=1, max_length=MAX_ROWS)
    filename: Text300 = Field("", description="a name for the submission, shown in the report")
    corrects: Annotated[int, Strict(), Field(ge=1, le=MAX_ID)] | None = Field(
        None, description="seq of the batch this one corrects (needs a reason)"
    )
    reason: Text500 = Field("", description="why: required for a correction")


class FileOut(Schema):
    path: str
    sha256: str
    rows: int


class BatchOut(Schema):
    id: int
    seq: int
    organization: int
    source: str
    filename: str
    rows: int
    content_hash: str
    prev_chain_hash: str
    chain_hash: str
    corrects: int | None = Field(description="seq of the corrected batch")
    reason: str
    created_by: str | None
    created_at: dt.datetime
    files: list[FileOut]

    @staticmethod
    def resolve_organization(obj: ReadingBatch) -> int:
        return int(obj.organization_id)

    @staticmethod
    def resolve_corrects(obj: ReadingBatch) -> int | None:
        return obj.corrects.seq if obj.corrects is not None else None

    @staticmethod
    def resolve_created_by(obj: ReadingBatch) -> str | None:
        return obj.created_by.get_username() if obj.created_by is not None else None

    @staticmethod
    def resolve_files(obj: ReadingBatch) -> list[dict[str, Any]]:
        return [{"path": f.path, "sha256": f.sha256, "rows": f.rows} for f in obj.files.all()]


class QuarantinedOut(Schema):
    id: int
    organization: int
    run: int
    sheet: str
    row: int
    column: str
    code: str
    reason: str
    raw: Any
    state: str
    resolved_by: int | None = Field(description="seq of the batch that stored the fixed row")

    @staticmethod
    def resolve_organization(obj: QuarantinedRow) -> int:
        return int(obj.organization_id)

    @staticmethod
    def resolve_run(obj: QuarantinedRow) -> int:
        return int(obj.run_id)

    @staticmethod
    def resolve_resolved_by(obj: QuarantinedRow) -> int | None:
        return obj.resolved_by.seq if obj.resolved_by is not None else None


class RunOut(Schema):
    id: int
    organization: int
    source: str
    filename: str
    created_at: dt.datetime
    created_by: str | None
    rows_total: int
    rows_accepted: int
    rows_duplicate: int
    rows_quarantined: int
    batch: int | None = Field(description="seq of the batch written (null: nothing new)")
    existing_batch: int | None = Field(description="seq of the batch that already holds this content")

    @staticmethod
    def resolve_organization(obj: IngestRun) -> int:
        return int(obj.organization_id)

    @staticmethod
    def resolve_created_by(obj: IngestRun) -> str | None:
        return obj.created_by.get_username() if obj.created_by is not None else None

    @staticmethod
    def resolve_batch(obj: IngestRun) -> int | None:
        return obj.batch.seq if obj.batch is not None else None

    @staticmethod
    def resolve_existing_batch(obj: IngestRun) -> int | None:
        existing = RunReport.of(obj).existing
        return existing.seq if existing is not None else None


class RowFateOut(Schema):
    fate: Literal["duplicate", "quarantined"]
    first_row: int = Field(description="first source row (header is row 1 in CSV and XLSX)")
    last_row: int = Field(description="last source row of a run of duplicates (= first_row otherwise)")
    file: str
    sheet: str
    column: str
    code: str
    reason: str
    quarantined: int | None = Field(description="id of the quarantined row (to fix or dismiss it)")


class RunReportOut(RunOut):
    """The run and every row that was not accepted, where it was and why."""

    exceptions: list[RowFateOut]


class LedgerRowOut(Schema):
    org: str
    point: str
    quantity: str
    period_start: dt.date
    total: float | None
    n: int
    expected: int | None
    availability: float | None


def _report(user: Any, run: IngestRun) -> IngestRun:
    """The run with every row that was not accepted (duplicate runs and quarantined rows) attached as
    ``exceptions``, for :class:`RunReportOut` (whose resolvers read the run itself)."""
    rows = scope_for(user, QuarantinedRow).filter(services.run_quarantine(run))
    exceptions = [
        RowFateOut(
            fate="duplicate" if f.fate == "duplicate" else "quarantined",
            first_row=f.first,
            last_row=f.last,
            file=f.file,
            sheet=f.sheet,
            column=f.column,
            code=f.code,
            reason=f.reason,
            quarantined=f.quarantined.pk if f.quarantined is not None else None,
        )
        for f in RunReport.of(run).exceptions(rows)
    ]
    setattr(run, "exceptions", exceptions)  # noqa: B010 (not a field of the model)
    return run


@router.post("/readings/batch", response={201: RunReportOut, **WRITE_ERRORS})
def submit_batch(request: HttpRequest, payload: BatchIn) -> Status[IngestRun]:
    """Validate and store readings as one batch; the answer is the run's report (201 even when every row
    was quarantined or already stored: the submission itself was received and recorded). A body over
    ``MAX_BODY_BYTES`` (about 25 MB: 10,000 readings of the longest cells) is answered 413."""
    user = caller(request)
    org = visible(user, Organization, payload.organization)
    require_may_add(user, IngestRun, org)
    corrects = None
    if payload.corrects is not None:
        corrects = scope_for(user, ReadingBatch).filter(organization=org, seq=payload.corrects).first()
        if corrects is None:
            raise HttpError(404, f"batch {payload.corrects} not found in this organization")
        if not payload.reason.strip():
            raise HttpError(422, "a correction needs a reason")
    rows = [r.model_dump(exclude_none=True) for r in payload.rows]
    try:
        run = services.ingest(
            org,
            source="api",
            rows=rows,
            filename=payload.filename,
            user=user,
            corrects=corrects,
            reason=payload.reason.strip(),
        )
    except IngestError as exc:
        # Nothing in the body could be judged as rows (e.g. every row empty): the client's request.
        raise HttpError(422, exc.message("en")) from exc
    return Status(201, _report(user, run))


@router.get("/readings/runs", response={200: list[RunOut], **READ_ERRORS})
@paginate(LimitOffset)
def list_runs(request: HttpRequest, organization: OrgFilter = None) -> QuerySet[IngestRun]:
    """Ingest runs (uploads, API and MQTT submissions, corrections), newest first."""
    user = caller(request)
    runs = of_organization(user, scope_for(user, IngestRun), organization)
    return runs.select_related("batch", "created_by").order_by("-created_at", "-id")


@router.get("/readings/batches", response={200: list[BatchOut], **READ_ERRORS})
@paginate(LimitOffset)
def list_batches(request: HttpRequest, organization: OrgFilter = None) -> QuerySet[ReadingBatch]:
    """Links of the batch chain, in chain order (seq), with their files and hashes."""
    user = caller(request)
    rows = of_organization(user, scope_for(user, ReadingBatch), organization)
    return rows.select_related("corrects", "created_by").prefetch_related("files").order_by("seq")


QuarantineState = Literal["open", "resubmitted", "dismissed", "all"]
Code = Annotated[str, StringConstraints(max_length=20), AfterValidator(_no_nul)]
PointCode = Annotated[str, StringConstraints(max_length=50), AfterValidator(_no_nul)]
CodeFilter = QueryEx[Code | None, P(description="only rows with this quarantine code, e.g. RD-RANGE")]
StateFilter = QueryEx[QuarantineState, P(description="open (default), resubmitted, dismissed or all")]
RunFilter = QueryEx[int | None, P(ge=1, le=MAX_ID, description="only rows of this ingest run (by id)")]
LedgerOrg = QueryEx[int, P(ge=1, le=MAX_ID, description="the organization (by id)")]
Year = QueryEx[int, P(ge=2000, le=2199, description="calendar year (Asia/Shanghai)")]
Period = QueryEx[Literal["day", "month", "year"], P(description="day, month (default) or year totals")]
PointFilter = QueryEx[PointCode | None, P(description="only this measuring point (by code)")]


@router.get("/readings/quarantine", response={200: list[QuarantinedOut], **READ_ERRORS})
@paginate(LimitOffset)
def list_quarantine(
    request: HttpRequest,
    organization: OrgFilter = None,
    code: CodeFilter = None,
    state: StateFilter = "open",
    run: RunFilter = None,
) -> QuerySet[QuarantinedRow]:
    """Quarantined rows (open ones unless ``state`` says otherwise), in source order per run."""
    user = caller(request)
    rows = of_organization(user, scope_for(user, QuarantinedRow), organization)
    if code:
        rows = rows.filter(code=code)
    if state != "all":
        rows = rows.filter(state=state)
    if run is not None:
        rows = rows.filter(run_id=run)
    return rows.select_related("resolved_by").order_by("run_id", "row", "id")


@router.get("/readings/ledger", response={200: list[LedgerRowOut], **READ_ERRORS})
def get_ledger(
    request: HttpRequest,
    organization: LedgerOrg,
    year: Year,
    period: Period = "month",
    point: PointFilter = None,
) -> list[dict[str, Any]]:
    """Totals per point, quantity and period of ``year`` (Asia/Shanghai calendar), with availability."""
    org = visible(caller(request), Organization, organization)
    rows = ledger.totals(
        org,
        period=period,
        start=dt.date(year, 1, 1),
        end=dt.date(year + 1, 1, 1),
        points=[point] if point else None,
    )
    return [_finite(r) for r in rows]


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    """NaN is not JSON: a total or availability that is not a number is reported as null."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}


class SuspectOut(Schema):
    meter: str = Field(description="instrument code")
    correction: float = Field(description="correction its reading would need if it alone were wrong")
    z: float | None = Field(description="that correction in its own standard uncertainties (null: none)")
    share: float = Field(description="its share of the balance's variance")


class BalanceMonthOut(Schema):
    month: dt.date
    main_total: float | None
    sub_total: float | None
    imbalance: float | None = Field(description="main − Σ sub, in the quantity's canonical unit")
    u: float | None = Field(description="combined standard uncertainty of the imbalance")
    u95: float | None = Field(description="expanded uncertainty k·u")
    significant: bool | None = Field(description="|imbalance| > U95; null when not judged")
    not_judged: Literal["no_total", "no_uncertainty"] | None
    missing: list[str] = Field(description="meters without a total or an uncertainty, when not judged")
    suspect: str | None = Field(description="the most likely faulty meter of a significant imbalance")
    suspects: list[SuspectOut]


class BalanceMeterOut(Schema):
    code: str
    name: str
    points: list[str]
    u_rel: float | None = Field(description="relative standard uncertainty (fraction), last month judged")


class NetworkOut(Schema):
    main: BalanceMeterOut
    subs: list[BalanceMeterOut]
    level: int = Field(description="0 at the top of a tree")
    quantity: str
    unit: str
    months: list[BalanceMonthOut]


class BalanceOut(Schema):
    year: int
    k: float | None = Field(description="the rule pack's coverage factor (null: none, nothing judged)")
    error: str = Field(description="why there are no networks: the register's tree has a cycle")
    networks: list[NetworkOut]


@router.get("/readings/balance", response={200: BalanceOut, **READ_ERRORS})
def get_balance(request: HttpRequest, organization: LedgerOrg, year: Year) -> dict[str, Any]:
    """计量网络平衡: per main meter (the sub-meters' ``parent``) and quantity, each month of ``year``: main,
    Σ sub, imbalance, its U95, significance and the most likely faulty meter (as the page shows them)."""
    from carbonmeter.web.readings.balance import year_balance

    org = visible(caller(request), Organization, organization)
    report = year_balance(org, year)

    def meter(info: Any, u_rel: dict[str, float | None]) -> dict[str, Any]:
        return {
            "code": info.code,
            "name": info.name,
            "points": list(info.points),
            "u_rel": u_rel.get(info.code),
        }

    return {
        "year": report.year,
        "k": report.k,
        "error": report.error,
        "networks": [
            {
                "main": meter(n.main, n.u_rel),
                "subs": [meter(s, n.u_rel) for s in n.subs],
                "level": n.level,
                "quantity": n.quantity,
                "unit": n.unit,
                "months": [
                    {
                        "month": m.month,
                        "main_total": m.balance.main_total,
                        "sub_total": m.balance.sub_total,
                        "imbalance": m.balance.imbalance,
                        "u": m.balance.u,
                        "u95": m.balance.u95,
                        "significant": m.balance.significant,
                        "not_judged": m.balance.not_judged,
                        "missing": list(m.balance.missing),
                        "suspect": m.balance.suspect,
                        "suspects": [
                            {
                                "meter": s.id,
                                "correction": s.correction,
                                "z": s.z if math.isfinite(s.z) else None,
                                "share": s.share,
                            }
                            for s in m.balance.suspects
                        ],
                    }
                    for m in n.months
                ],
            }
            for n in report.networks
        ],
    }
