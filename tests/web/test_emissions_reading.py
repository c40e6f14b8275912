"""Reading a run's §6.3 figures out of its document (``carbonmeter.web.assessment.emissions``) and the number
filters of the emissions pages, on small hand-made documents."""

from __future__ import annotations

from typing import Any

from carbonmeter.rules.loader import load_pack
from carbonmeter.web.assessment import emissions
from carbonmeter.web.assessment.templatetags.quantities import significant, tonnes


def _no_links(kind: str, ident: str) -> str | None:
    return None


DOC: dict[str, Any] = {
    "total_emissions_t": 1500.0,
    "streams": [
        {"id": "S1", "annual_emissions_t": 400.0},  # no formula: not on the page
        {
            "id": "S2",
            "formula": "electricity",
            "annual_emissions_t": 500.0,
            "declared_emissions_t": 520.0,
            "computed_emissions_t": 500.0,
            "u_rel": None,
            "u95_t": None,
            "tier": 0,
            "activity_u95_percent": 9.0,
            "missing_values": ["emission_factor"],
            "budget": [
                {
                    "point": "P2.1",
                    "parameter": "electricity",
                    "value": 1000.0,
                    "unit": "MWh",
                    "u_rel": 0.045,
                    "instrument": "M1",
                    "certificate_no": "C-1",
                    "contribution": None,
                },
            ],
        },
        {
            "id": "S3",
            "formula": "fuel_ncv_cc",
            "annual_emissions_t": 1000.0,
            "declared_emissions_t": None,
            "computed_emissions_t": 1000.0,
            "u_rel": 0.01,
            "u95_t": 20.0,
            "tier": 4,
            "activity_u95_percent": 1.0,
            "missing_values": [],
            "budget": [
                {
                    "point": "P3.1",
                    "parameter": "consumption",
                    "value": 100.0,
                    "unit": "t",
                    "u_rel": 0.005,
                    "instrument": "W1",
                    "certificate_no": "C-2",
                    "contribution": 0.25,
                },
                {
                    "point": "P3.4",
                    "parameter": "oxidation_rate",
                    "value": 0.98,
                    "unit": "dimensionless",
                    "u_rel": 0.00866,
                    "instrument": None,
                    "certificate_no": None,
                    "contribution": 0.75,
                },
            ],
        },
    ],
    "not_judged": [
        {"subject": "S2:emission_factor", "what": "emissions", "reason": "缺排放因子", "reason_en": "no EF"},
        {"subject": "P9.9", "what": "uncertainty", "reason": "别的碳源流", "reason_en": "other"},
        {"subject": "S2", "what": "accuracy", "reason": "准确度", "reason_en": "accuracy"},
    ],
    "uncertainty": {"total_u95_t": 20.0, "total_u95_rel": 20.0 / 1500.0, "k": 2.0, "complete": False},
    "advisor": [
        {
            "point": "P3.4",
            "stream": "S3",
            "parameter": "oxidation_rate",
            "contribution": 0.75,
            "action": "measure",
            "to": None,
            "reduction_t": None,
            "max_reduction_t": 2.7,
        },
    ],
}


def test_formula_streams_largest_first_with_names_titles_and_reasons() -> None:
    pack = load_pack("cq-part1")
    figures = emissions.stream_figures(DOC, pack, "zh", {"S2": "购入电力", "S3": "烟煤"})
    assert [f.id for f in figures] == ["S3", "S2"]
    s3, s2 = figures
    assert s3.name == "烟煤" and s3.formula == pack.formulas["fuel_ncv_cc"].title.zh
    # U95 20 t of 1000 t = 2.00 %.
    assert s3.judged and s3.u95_pct == 2.0 and s3.reasons == ()
    # S2's missing emission factor is its "S2:emission_factor" subject; P9.9 is another stream's and the
    # accuracy entry is not about emissions or uncertainty.
    assert not s2.judged and s2.reasons == ("缺排放因子",) and s2.tier == 0
    assert emissions.stream_figures(DOC, pack, "en", {})[1].reasons == ("no EF",)
    assert emissions.stream_figures(DOC, None, "zh", {})[0].formula == "fuel_ncv_cc"  # pack gone


def test_the_total_and_the_chart() -> None:
    total = emissions.plant_total(DOC)
    assert total is not None
    assert (total.emissions_t, total.u95_t, total.k, total.complete) == (1500.0, 20.0, 2.0, False)
    assert round(total.u95_pct or 0, 4) == 1.3333 and total.monte_carlo_u95_t is None
    assert emissions.plant_total({"streams": []}) is None
    figures = emissions.stream_figures(DOC, None, "zh", {"S3": "烟煤"})
    chart = emissions.chart_data(figures, total, {"total": "全厂"})
    assert chart["rows"] == [
        {"name": "S3 烟煤", "declared": None, "computed": 1000.0, "u95": 20.0},
        {"name": "S2", "declared": 520.0, "computed": 500.0, "u95": None},
        {"name": "全厂", "declared": None, "computed": 1500.0, "u95": 20.0},
    ]


def test_budget_lines_largest_share_first_with_labels() -> None:
    s3 = emissions.stream_doc(DOC, "S3")
    assert s3 is not None and emissions.stream_doc(DOC, "S1") is None
    lines = emissions.budget_lines(s3, lambda kind, ident: f"/{kind}/{ident}/")
    assert [b.point for b in lines] == ["P3.4", "P3.1"]
    assert lines[0].parameter == "碳氧化率" and lines[0].unit == "—" and lines[0].instrument_href is None
    assert lines[1].instrument_href == "/instrument/W1/" and lines[1].u_rel_pct == 0.5
    assert lines[1].contribution_pct == 25.0


def test_advice_keeps_the_engines_order_and_words() -> None:
    (a,) = emissions.advice(DOC, {"S3": "烟煤"}, _no_links)
    assert (a.rank, a.point, a.stream_name, a.parameter, a.action) == (
        1,
        "P3.4",
        "烟煤",
        "碳氧化率",
        "measure",
    )
    assert a.contribution_pct == 75.0 and a.reduction_t is None and a.max_reduction_t == 2.7


def test_number_filters() -> None:
    assert tonnes(532688.75) == "532,689" and tonnes(None) == "—" and tonnes(0.4) == "0"
    assert significant(0.02618) == "0.02618" and significant(0.0080) == "0.008"
    assert significant(1019500.0) == "1,019,500" and significant(25.5) == "25.5"
    assert significant(1234.56) == "1,234.6" and significant(None) == "—"
