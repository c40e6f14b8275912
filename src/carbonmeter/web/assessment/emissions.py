"""A run's emissions and their uncertainty (contract §6.3), read from its stored §4 document.

The pages and the API show what the engine computed, never recompute it: the stored document is the record
of the run (the pack version, the values and the instruments as they were on that day).  This module picks
the formula streams, the plant total, one stream's uncertainty budget and the advisor out of the document and
puts names on them — the formula by its title in the run's pack, the stream by its name in the register —
so no page shows an internal code.  Numbers stay numbers; the templates format them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from carbonmeter.rules.loader import PackError, load_pack
from carbonmeter.rules.messages import Lang
from carbonmeter.rules.schema import Pack
from carbonmeter.web.assessment.evidence import Links
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.terms import parameter_label

#: Units that mean "a pure number": shown as a dash, not as pint's word.
DIMENSIONLESS = frozenset({"", "1", "dimensionless"})


def run_pack(run: AssessmentRun) -> Pack | None:
    """The exact pack version the run used, when it can still be loaded."""
    try:
        return load_pack(f"{run.pack_id}@{run.pack_version}")
    except (PackError, OSError, KeyError, ValueError):
        return None


def formula_streams(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The streams the engine accounted by a formula (those carry §6.3's figures), largest first."""
    rows = [s for s in document.get("streams", []) if s.get("formula")]
    return sorted(rows, key=lambda s: -abs(s.get("annual_emissions_t") or 0.0))


def stream_doc(document: dict[str, Any], stream: str) -> dict[str, Any] | None:
    """The formula stream ``stream`` of the document, or None (no such stream, or not a formula stream)."""
    return next((s for s in formula_streams(document) if s["id"] == stream), None)


def not_judged_subjects(stream: dict[str, Any]) -> set[str]:
    """What a not-judged entry about ``stream`` names: the stream, its inputs' points, its missing ones."""
    out = {stream["id"]} | {b["point"] for b in stream.get("budget", [])}
    return out | {f"{stream['id']}:{p}" for p in stream.get("missing_values", [])}


def not_judged_of(document: dict[str, Any], stream: dict[str, Any], lang: Lang) -> list[str]:
    """Why the stream's emissions or uncertainty are not judged (the engine's reasons, in ``lang``)."""
    subjects = not_judged_subjects(stream)
    return [
        (n.get("reason_en") if lang == "en" else None) or n["reason"]
        for n in document.get("not_judged", [])
        if n.get("subject") in subjects and n.get("what") in ("uncertainty", "emissions")
    ]


def formula_title(pack: Pack | None, formula: str, lang: Lang) -> str:
    """The formula's title in the run's pack (the id only when that pack can no longer be loaded)."""
    spec = pack.formulas.get(formula) if pack is not None else None
    if spec is None:
        return formula
    return spec.title.en if lang == "en" else spec.title.zh


@dataclass(frozen=True)
class StreamFigure:
    """One formula stream as the emissions page shows it."""

    id: str
    name: str
    formula: str
    declared_t: float | None
    computed_t: float | None
    emissions_t: float
    u95_t: float | None
    u95_pct: float | None
    tier: int | None
    activity_u95_percent: float | None
    reasons: tuple[str, ...]
    has_budget: bool

    @property
    def judged(self) -> bool:
        return self.u95_t is not None


def stream_figures(
    document: dict[str, Any], pack: Pack | None, lang: Lang, names: dict[str, str]
) -> list[StreamFigure]:
    """The formula streams with their names, largest first."""
    out = []
    for s in formula_streams(document):
        emissions = s.get("annual_emissions_t") or 0.0
        u95 = s.get("u95_t")
        out.append(
            StreamFigure(
                id=s["id"],
                name=names.get(s["id"], ""),
                formula=formula_title(pack, s["formula"], lang),
                declared_t=s.get("declared_emissions_t"),
                computed_t=s.get("computed_emissions_t"),
                emissions_t=emissions,
                u95_t=u95,
                u95_pct=u95 / abs(emissions) * 100 if u95 is not None and emissions else None,
                tier=s.get("tier"),
                activity_u95_percent=s.get("activity_u95_percent"),
                reasons=tuple(not_judged_of(document, s, lang)),
                has_budget=bool(s.get("budget")),
            )
        )
    return out


@dataclass(frozen=True)
class Total:
    """The plant's net emissions and their U95 (streams not judged left out: ``complete`` is then false)."""

    emissions_t: float
    u95_t: float | None
    u95_pct: float | None
    k: float | None
    complete: bool
    monte_carlo_u95_t: float | None
    monte_carlo_draws: int | None


def plant_total(document: dict[str, Any]) -> Total | None:
    """The total with its uncertainty; None when the run accounted no stream by a formula."""
    u = document.get("uncertainty")
    if not u:
        return None
    mc = u.get("monte_carlo") or {}
    rel = u.get("total_u95_rel")
    return Total(
        emissions_t=document.get("total_emissions_t") or 0.0,
        u95_t=u.get("total_u95_t"),
        u95_pct=None if rel is None else rel * 100,
        k=u.get("k"),
        complete=bool(u.get("complete")),
        monte_carlo_u95_t=mc.get("u95_t"),
        monte_carlo_draws=mc.get("draws"),
    )


def display_unit(unit: str | None) -> str:
    """A pure number's unit is a dash; any other unit is shown as the engine wrote it."""
    return "—" if (unit or "") in DIMENSIONLESS else str(unit)


@dataclass(frozen=True)
class BudgetLine:
    """One input of a stream's budget: which point, what it is, how uncertain, on which instrument."""

    point: str
    point_href: str | None
    parameter: str
    value: float | None
    unit: str
    u_rel_pct: float | None
    instrument: str | None
    instrument_href: str | None
    certificate_no: str | None
    contribution_pct: float | None


def budget_lines(stream: dict[str, Any], links: Links) -> list[BudgetLine]:
    """The stream's budget, largest contribution first (inputs without one — not judged — last)."""
    lines = sorted(stream.get("budget", []), key=lambda b: -(b.get("contribution") or -1.0))
    return [
        BudgetLine(
            point=b["point"],
            point_href=links("point", b["point"]),
            parameter=parameter_label(b["parameter"]),
            value=b.get("value"),
            unit=display_unit(b.get("unit")),
            u_rel_pct=None if b.get("u_rel") is None else b["u_rel"] * 100,
            instrument=b.get("instrument"),
            instrument_href=links("instrument", b["instrument"]) if b.get("instrument") else None,
            certificate_no=b.get("certificate_no"),
            contribution_pct=None if b.get("contribution") is None else b["contribution"] * 100,
        )
        for b in lines
    ]


@dataclass(frozen=True)
class Advice:
    """One action of the advisor, ranked by its input's share of the plant total's variance."""

    rank: int
    point: str
    point_href: str | None
    stream: str
    stream_name: str
    parameter: str
    contribution_pct: float
    action: str
    to: str | None
    reduction_t: float | None
    max_reduction_t: float | None


def advice(document: dict[str, Any], names: dict[str, str], links: Links) -> list[Advice]:
    """The advisor's actions in the engine's order (``action`` stays the contract's word; the template
    says it in the reader's language)."""
    return [
        Advice(
            rank=n,
            point=x["point"],
            point_href=links("point", x["point"]),
            stream=x["stream"],
            stream_name=names.get(x["stream"], ""),
            parameter=parameter_label(x["parameter"]),
            contribution_pct=(x.get("contribution") or 0.0) * 100,
            action=x["action"],
            to=x.get("to"),
            reduction_t=x.get("reduction_t"),
            max_reduction_t=x.get("max_reduction_t"),
        )
        for n, x in enumerate(document.get("advisor", []), 1)
    ]


def chart_data(figures: list[StreamFigure], total: Total | None, labels: dict[str, str]) -> dict[str, Any]:
    """What the page's chart draws (``json_script``): per stream declared and computed tonnes and the
    computed value's U95 interval; the plant total last, with its U95.  ``labels`` are the legend's words."""
    rows = [
        {
            "name": f"{f.id} {f.name}".strip(),
            "declared": f.declared_t,
            "computed": f.computed_t if f.computed_t is not None else f.emissions_t,
            "u95": f.u95_t,
        }
        for f in figures
    ]
    if total is not None:
        rows.append(
            {"name": labels["total"], "declared": None, "computed": total.emissions_t, "u95": total.u95_t}
        )
    return {"rows": rows, "labels": labels}
