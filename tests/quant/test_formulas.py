"""Formulas (contract v1.1 §6.2–6.3): a hand-worked answer for each formula (the arithmetic written in the
test), units, the stream budget, the signed plant total, and properties.

The parameter lists below mirror the contract's table for ``cq-part1``; the pack will carry them (they are
test data here, not the product's).
"""

from __future__ import annotations

import math
from typing import Any

import GTC
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmeter.quant.formulas import (
    CO2_PER_C,
    CO2_PER_CAO,
    CO2_PER_MGO,
    Formula,
    FormulaError,
    Parameter,
    Role,
    Term,
    Value,
    evaluate,
    evaluate_batch,
    gradient_batch,
    total,
)
from carbonmeter.quant.uncertainty import Input, propagate

AD, EF, CEMS = Role.ACTIVITY_DATA, Role.EMISSION_FACTOR, Role.CEMS
EVERY = frozenset({"major", "minor", "de_minimis"})
FRACTION = ("dimensionless",)

FUEL_NCV_CC = Formula(
    "fuel_ncv_cc",
    (
        Parameter("consumption", AD, ("t", "10^4 Nm^3")),
        Parameter("ncv", EF, ("GJ/t", "GJ/(10^4 Nm^3)")),
        Parameter("carbon_content", EF, ("tC/GJ",)),
        Parameter("oxidation_rate", EF, FRACTION, EVERY),
    ),
)
FUEL_MASS_CC = Formula(
    "fuel_mass_cc",
    (
        Parameter("consumption", AD, ("t",)),
        Parameter("carbon_content", EF, ("tC/t",)),
        Parameter("oxidation_rate", EF, FRACTION, EVERY),
    ),
)
CARBONATE = Formula(
    "carbonate",
    (
        Parameter("consumption", AD, ("t",)),
        Parameter("emission_factor", EF, ("tCO2/t",)),
        Parameter("conversion_fraction", EF, FRACTION, EVERY),
    ),
)
CLINKER = Formula(
    "clinker",
    (
        Parameter("clinker_output", AD, ("t",)),
        Parameter("cao_content", EF, FRACTION),
        Parameter("mgo_content", EF, FRACTION),
        Parameter("cao_non_carbonate", EF, FRACTION, EVERY),
        Parameter("mgo_non_carbonate", EF, FRACTION, EVERY),
    ),
)
ELECTRICITY = Formula(
    "electricity",
    (Parameter("electricity", AD, ("MWh",)), Parameter("emission_factor", EF, ("tCO2/MWh",), EVERY)),
)
HEAT = Formula(
    "heat", (Parameter("heat", AD, ("GJ",)), Parameter("emission_factor", EF, ("tCO2/GJ",), EVERY))
)
CEMS_FORMULA = Formula(
    "cems", (Parameter("co2_concentration", CEMS, ("%",)), Parameter("flow_velocity", CEMS, ("m/s",)))
)


def coal(consumption: float = 10_000.0, u_ad: float | None = 0.01) -> dict[str, Value]:
    return {
        "consumption": Value(consumption, "t", u_ad, "P1", "FM-01", "C-2025-001"),
        "ncv": Value(48.0, "GJ/t", 0.02, "P2"),
        "carbon_content": Value(0.0153, "tC/GJ", 0.03, "P3"),
        "oxidation_rate": Value(99.0, "%", 0.005, "P4"),
    }


class TestHandWorked:
    def test_fuel_ncv_cc(self) -> None:
        # 10,000 t × 48.0 GJ/t = 480,000 GJ; × 0.0153 tC/GJ = 7,344 tC; × 0.99 = 7,270.56 tC;
        # × 44/12 = 26,658.72 tCO2. u_rel = √(1² + 2² + 3² + 0.5²) % = √14.25 % = 3.7749 %; u = 1,006.35 t.
        e = evaluate(FUEL_NCV_CC, coal())
        assert e.emissions_t == pytest.approx(26_658.72, abs=0.005)
        assert e.u_rel == pytest.approx(math.sqrt(14.25) / 100, rel=1e-12)
        assert e.u_t == pytest.approx(1_006.35, abs=0.01)
        assert e.expanded_t(2.0) == pytest.approx(2_012.70, abs=0.02)

    def test_fuel_ncv_cc_natural_gas_in_ten_thousand_cubic_metres(self) -> None:
        # 1,200 (10^4 Nm³) × 389.31 GJ/(10^4 Nm³) = 467,172 GJ; × 0.01532 tC/GJ = 7,157.075 tC;
        # × 0.99 = 7,085.504 tC; × 44/12 = 25,980.18 tCO2 (the stack.md §4 case: E = 25,980.2).
        e = evaluate(
            FUEL_NCV_CC,
            {
                "consumption": Value(1_200.0, "10^4 Nm^3"),
                "ncv": Value(389.31, "GJ/(10^4 Nm^3)"),
                "carbon_content": Value(0.01532, "tC/GJ"),
                "oxidation_rate": Value(0.99, "1"),
            },
        )
        assert e.emissions_t == pytest.approx(25_980.2, abs=0.05)
        assert e.u_t is None  # no uncertainties given: not judged, but computed

    def test_same_gas_in_other_units(self) -> None:
        # 12,000,000 m³ = 1,200 (10^4 Nm³); 38.931 MJ/Nm³ = 389.31 GJ/(10^4 Nm³); 99 % = 0.99
        e = evaluate(
            FUEL_NCV_CC,
            {
                "consumption": Value(12_000_000.0, "Nm3"),
                "ncv": Value(38.931, "MJ/Nm3"),
                "carbon_content": Value(15.32, "kg/GJ"),  # 15.32 kgC/GJ = 0.01532 tC/GJ
                "oxidation_rate": Value(99.0, "%"),
            },
        )
        assert e.emissions_t == pytest.approx(25_980.18, abs=0.01)
        assert e.canonical["consumption"] == pytest.approx(1_200.0)

    def test_fuel_mass_cc(self) -> None:
        # 5,000 t × 60 % = 3,000 tC; × 0.98 = 2,940 tC; × 44/12 = 10,780 tCO2
        e = evaluate(
            FUEL_MASS_CC,
            {
                "consumption": Value(5_000.0, "t"),
                "carbon_content": Value(60.0, "%"),
                "oxidation_rate": Value(0.98, "1"),
            },
        )
        assert e.emissions_t == pytest.approx(10_780.0)

    def test_carbonate(self) -> None:
        # 2,000 t × 0.44 tCO2/t = 880 t; × 0.98 = 862.4 tCO2
        e = evaluate(
            CARBONATE,
            {
                "consumption": Value(2_000.0, "t"),
                "emission_factor": Value(0.44, "tCO2/t"),
                "conversion_fraction": Value(98.0, "%"),
            },
        )
        assert e.emissions_t == pytest.approx(862.4)

    def test_clinker(self) -> None:
        # (65 % − 0.5 %) × 44/56 = 0.645 × 0.785714… = 0.506786; (2.5 % − 0.2 %) × 44/40 = 0.023 × 1.1
        # = 0.0253; sum 0.532086 tCO2/t × 1,000,000 t = 532,085.71 tCO2
        e = evaluate(
            CLINKER,
            {
                "clinker_output": Value(1_000_000.0, "t", 0.01, "Q"),
                "cao_content": Value(65.0, "%", 0.005, "CaO"),
                "mgo_content": Value(2.5, "%", 0.02, "MgO"),
                "cao_non_carbonate": Value(0.5, "%", 0.1, "CaOnc"),
                "mgo_non_carbonate": Value(0.2, "%", 0.1, "MgOnc"),
            },
        )
        assert e.emissions_t == pytest.approx(532_085.71, abs=0.005)
        # sensitivities: ∂E/∂CaO = Q·44/56 = 785,714.3 t per unit fraction; component = 785,714.3 × 0.65 ×
        # 0.005 = 2,553.57 t — the budget's CaO share is 2,553.57² / u²
        assert e.u_t is not None
        cao = next(b for b in e.budget if b.parameter == "cao_content")
        assert cao.contribution == pytest.approx((1_000_000 * CO2_PER_CAO * 0.65 * 0.005) ** 2 / e.u_t**2)

    def test_clinker_uncertainty_matches_gtc(self) -> None:
        values = {"Q": 1e6, "cao": 0.65, "mgo": 0.025, "caonc": 0.005, "mgonc": 0.002}
        u_rel = {"Q": 0.01, "cao": 0.005, "mgo": 0.02, "caonc": 0.1, "mgonc": 0.1}
        inputs = [Input.relative(k, v, u_rel[k]) for k, v in values.items()]
        gtc = propagate(lambda q, c, m, cn, mn: q * ((c - cn) * CO2_PER_CAO + (m - mn) * CO2_PER_MGO), inputs)
        ours = evaluate(
            CLINKER,
            {
                "clinker_output": Value(1e6, "t", 0.01),
                "cao_content": Value(0.65, "1", 0.005),
                "mgo_content": Value(0.025, "1", 0.02),
                "cao_non_carbonate": Value(0.005, "1", 0.1),
                "mgo_non_carbonate": Value(0.002, "1", 0.1),
            },
        )
        assert ours.u_t == pytest.approx(gtc.u, rel=1e-12)

    def test_electricity(self) -> None:
        # 10,000 × 10^4 kWh = 100,000 MWh; × 0.6 tCO2/MWh = 60,000 tCO2 (0.6 is test data, not a grid factor)
        e = evaluate(
            ELECTRICITY,
            {"electricity": Value(10_000.0, "10^4 kWh"), "emission_factor": Value(0.6, "tCO2/MWh")},
        )
        assert e.emissions_t == pytest.approx(60_000.0)

    def test_heat(self) -> None:
        # 50,000 GJ × 0.11 tCO2/GJ = 5,500 tCO2
        e = evaluate(HEAT, {"heat": Value(50_000.0, "GJ"), "emission_factor": Value(0.11, "tCO2/GJ")})
        assert e.emissions_t == pytest.approx(5_500.0)

    def test_cems(self) -> None:
        # E is measured: 100,000 t; u_rel = √(2² + 5²) % = √29 % = 5.385 %; u = 5,385.16 t
        values = {
            "co2_concentration": Value(12.0, "%", 0.02, "CEMS-CO2"),
            "flow_velocity": Value(15.0, "m/s", 0.05, "CEMS-V"),
        }
        e = evaluate(CEMS_FORMULA, values, measured_emissions_t=100_000.0)
        assert e.emissions_t == 100_000.0
        assert e.u_t == pytest.approx(100_000.0 * math.sqrt(29) / 100)
        assert evaluate(CEMS_FORMULA, values).emissions_t is None  # no measured mass, nothing to compute

    def test_constants(self) -> None:
        assert CO2_PER_C == 44 / 12
        assert CO2_PER_CAO == 44 / 56
        assert CO2_PER_MGO == 44 / 40


class TestActivityParts:
    def test_parts_of_one_flow_are_summed(self) -> None:
        # two belt scales: 6,000 t + 4,000 t = 10,000 t, the same E as one value of 10,000 t
        parts = coal()
        parts_two = dict(parts)
        both = [Value(6_000.0, "t", 0.01, "P1a", "BS-1"), Value(4_000.0, "t", 0.01, "P1b", "BS-2")]
        e = evaluate(FUEL_NCV_CC, {**parts_two, "consumption": both})
        assert e.emissions_t == pytest.approx(26_658.72, abs=0.005)
        # independent scales: u_rel(AD) = √(60² + 40²)/100 % = 0.7211 % < 1 %
        assert e.u_rel is not None
        assert e.u_rel == pytest.approx(math.sqrt(0.7211102550927979**2 + 4 + 9 + 0.25) / 100, rel=1e-9)

    def test_parts_on_one_instrument_add_linearly(self) -> None:
        # the same meter for both parts (r = 1): u(AD) = 60 + 40 = 100 t, as for one value
        both = [Value(6_000.0, "t", 0.01, "P1a", "FM-01"), Value(4_000.0, "t", 0.01, "P1b", "FM-01")]
        e = evaluate(FUEL_NCV_CC, {**coal(), "consumption": both})
        assert e.u_rel == pytest.approx(math.sqrt(14.25) / 100, rel=1e-12)

    def test_other_parameters_take_one_value(self) -> None:
        two = [Value(48.0, "GJ/t", 0.02), Value(47.0, "GJ/t", 0.02)]
        with pytest.raises(FormulaError, match="ncv"):
            evaluate(FUEL_NCV_CC, {**coal(), "ncv": two})


class TestErrors:
    def test_missing_parameter_is_listed(self) -> None:
        values = coal()
        del values["ncv"]
        e = evaluate(FUEL_NCV_CC, values)
        assert e.emissions_t is None
        assert e.missing == ("ncv",)

    def test_unit_of_the_wrong_dimension_is_located(self) -> None:
        with pytest.raises(FormulaError) as err:
            evaluate(FUEL_NCV_CC, {**coal(), "consumption": Value(10.0, "MWh")})
        assert err.value.parameter == "consumption"

    def test_volume_amount_with_a_mass_ncv_does_not_combine(self) -> None:
        with pytest.raises(FormulaError, match="do not"):
            evaluate(FUEL_NCV_CC, {**coal(), "consumption": Value(1_200.0, "10^4 Nm^3")})

    def test_unknown_unit(self) -> None:
        with pytest.raises(FormulaError, match="ncv"):
            evaluate(FUEL_NCV_CC, {**coal(), "ncv": Value(48.0, "furlongs per fortnight")})

    def test_formula_must_match_its_arithmetic(self) -> None:
        with pytest.raises(FormulaError, match="parameters"):
            Formula("heat", (Parameter("heat", AD, ("GJ",)),))
        with pytest.raises(FormulaError, match="no arithmetic"):
            Formula("magic", ())

    def test_a_value_without_uncertainty_leaves_u_unjudged(self) -> None:
        e = evaluate(FUEL_NCV_CC, coal(u_ad=None))
        assert e.emissions_t is not None
        assert e.u_t is None
        assert e.u_rel is None


class TestBudgetAndTotal:
    def test_budget_lines_carry_point_instrument_and_certificate(self) -> None:
        e = evaluate(FUEL_NCV_CC, coal())
        assert [b.parameter for b in e.budget] == ["carbon_content", "ncv", "consumption", "oxidation_rate"]
        first_ad = next(b for b in e.budget if b.parameter == "consumption")
        assert (first_ad.point, first_ad.instrument, first_ad.certificate_no) == ("P1", "FM-01", "C-2025-001")
        # shares: 9, 4, 1, 0.25 out of 14.25
        assert [b.contribution for b in e.budget] == pytest.approx(
            [9 / 14.25, 4 / 14.25, 1 / 14.25, 0.25 / 14.25]
        )

    def test_net_total_deducts_exports(self) -> None:
        coal_e = evaluate(FUEL_NCV_CC, coal())
        export = evaluate(
            ELECTRICITY,
            {
                "electricity": Value(10_000.0, "MWh", 0.005, "EX", "EM-01"),
                "emission_factor": Value(0.6, "tCO2/MWh", 0.0),
            },
        )
        assert coal_e.emissions_t is not None and export.emissions_t is not None
        t = total([Term(+1, coal_e.emissions_t, coal_e), Term(-1, export.emissions_t, export)])
        # 26,658.72 − 6,000 = 20,658.72; u = √(1,006.35² + 30²) = 1,006.80
        assert t.emissions_t == pytest.approx(20_658.72, abs=0.005)
        assert t.u_t == pytest.approx(math.hypot(1_006.3535, 30.0), abs=0.01)
        assert t.complete
        assert sum(s for *_, s in t.shares) == pytest.approx(1.0)

    def test_a_shared_instrument_stays_correlated_across_streams(self) -> None:
        a = evaluate(
            HEAT,
            {"heat": Value(1_000.0, "GJ", 0.02, "H1", "HM-1"), "emission_factor": Value(0.1, "tCO2/GJ", 0.0)},
        )
        b = evaluate(
            HEAT,
            {"heat": Value(1_000.0, "GJ", 0.02, "H2", "HM-1"), "emission_factor": Value(0.1, "tCO2/GJ", 0.0)},
        )
        assert a.emissions_t is not None and b.emissions_t is not None
        # 100 t each with u 2 t from the same meter: u = 2 + 2 = 4 t (independent it would be 2.83 t)
        assert total([Term(1, 100.0, a), Term(1, 100.0, b)]).u_t == pytest.approx(4.0)

    def test_unjudged_stream_makes_the_total_incomplete(self) -> None:
        judged = evaluate(FUEL_NCV_CC, coal())
        unjudged = evaluate(FUEL_NCV_CC, coal(u_ad=None))
        assert judged.emissions_t is not None and unjudged.emissions_t is not None
        t = total([Term(1, judged.emissions_t, judged), Term(1, unjudged.emissions_t, unjudged)])
        assert not t.complete
        assert t.u_t == pytest.approx(judged.u_t)
        assert t.emissions_t == pytest.approx(2 * 26_658.72, abs=0.01)


def test_batch_matches_one_by_one() -> None:
    consumption = [10_000.0, 5_000.0, 1.0]
    arrays = {
        "consumption": consumption,
        "ncv": [48.0] * 3,
        "carbon_content": [0.0153] * 3,
        "oxidation_rate": [0.99] * 3,
    }
    batch = evaluate_batch("fuel_ncv_cc", arrays)
    for i, c in enumerate(consumption):
        single = evaluate(FUEL_NCV_CC, {**coal(c), "oxidation_rate": Value(0.99, "1", 0.005)})
        assert batch[i] == pytest.approx(single.emissions_t)
    grads = gradient_batch("fuel_ncv_cc", arrays)
    assert grads["consumption"][0] == pytest.approx(48.0 * 0.0153 * 0.99 * 44 / 12)


def test_gradient_matches_gtc_sensitivity() -> None:
    x = {"consumption": 10_000.0, "ncv": 48.0, "carbon_content": 0.0153, "oxidation_rate": 0.99}
    ureals = {k: GTC.ureal(v, 1.0) for k, v in x.items()}
    y = (
        ureals["consumption"]
        * ureals["ncv"]
        * ureals["carbon_content"]
        * ureals["oxidation_rate"]
        * CO2_PER_C
    )
    grads = gradient_batch("fuel_ncv_cc", x)
    for k, u in ureals.items():
        assert float(grads[k]) == pytest.approx(GTC.reporting.sensitivity(y, u), rel=1e-12)


# --- properties -------------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.floats(1.0, 1e6), st.floats(1e-3, 1e3))
def test_scaling_the_activity_amount_scales_e(consumption: float, scale: float) -> None:
    base = evaluate(FUEL_NCV_CC, coal(consumption))
    scaled = evaluate(FUEL_NCV_CC, coal(consumption * scale))
    assert base.emissions_t is not None and base.u_t is not None
    assert scaled.emissions_t == pytest.approx(base.emissions_t * scale, rel=1e-12)
    assert scaled.u_t == pytest.approx(base.u_t * scale, rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["consumption", "ncv", "carbon_content", "oxidation_rate"]),
    st.floats(0.0, 1.0),
    st.floats(1e-4, 0.1),
)
def test_a_better_instrument_never_raises_the_uncertainty(
    parameter: str, shrink: float, u_rel: float
) -> None:
    values = coal()
    old = values[parameter]
    values[parameter] = Value(old.value, old.unit, u_rel, old.point, old.instrument)
    better = dict(values)
    better[parameter] = Value(old.value, old.unit, u_rel * shrink, old.point, old.instrument)
    before, after = evaluate(FUEL_NCV_CC, values), evaluate(FUEL_NCV_CC, better)
    assert before.u_t is not None and after.u_t is not None
    assert after.u_t <= before.u_t * (1 + 1e-12)


# --- the cement pack's formulas (cq-part2-cement) ---------------------------------------------------------

CLINKER_DUST = Formula(
    "clinker_dust",
    (
        Parameter("clinker_output", AD, ("t",)),
        Parameter("kiln_dust", AD, ("t",)),
        Parameter("bypass_dust", AD, ("t",)),
        Parameter("cao_content", EF, FRACTION),
        Parameter("mgo_content", EF, FRACTION),
        Parameter("cao_non_carbonate", EF, FRACTION, EVERY),
        Parameter("mgo_non_carbonate", EF, FRACTION, EVERY),
    ),
)
RAW_MEAL = Formula(
    "raw_meal_organic_carbon",
    (Parameter("raw_meal", AD, ("t",)), Parameter("organic_carbon_content", EF, FRACTION)),
)
ALT_FUEL = Formula(
    "alt_fuel_ncv_cc",
    (
        Parameter("consumption", AD, ("t",)),
        Parameter("ncv", EF, ("GJ/t",)),
        Parameter("carbon_content", EF, ("tC/GJ",)),
        Parameter("oxidation_rate", EF, FRACTION, EVERY),
        Parameter("fossil_fraction", EF, FRACTION),
    ),
)


def kiln(kiln_dust: float = 20_000.0) -> dict[str, Value]:
    return {
        "clinker_output": Value(1_000_000.0, "t", 0.01, "Q"),
        "kiln_dust": Value(kiln_dust, "t", 0.05, "CKD"),
        "bypass_dust": Value(5_000.0, "t", 0.05, "BPD"),
        "cao_content": Value(65.0, "%", 0.005, "CaO"),
        "mgo_content": Value(2.0, "%", 0.02, "MgO"),
        "cao_non_carbonate": Value(1.0, "%", 0.1, "CaOnc"),
        "mgo_non_carbonate": Value(0.1, "%", 0.1, "MgOnc"),
    }


class TestCement:
    def test_clinker_with_kiln_and_bypass_dust(self) -> None:
        # factor: (65 % − 1 %) × 44/56 + (2 % − 0.1 %) × 44/40 = 0.64 × 0.785714… + 0.019 × 1.1
        #       = 0.502857 + 0.0209 = 0.523757 t CO2/t;
        # mass leaving the kiln: 1,000,000 + 20,000 + 5,000 = 1,025,000 t → E = 536,851.07 t CO2
        e = evaluate(CLINKER_DUST, kiln())
        assert e.emissions_t == pytest.approx(536_851.07, abs=0.005)
        # the dust adds 25,000 t × 0.523757 = 13,093.93 t over the clinker formula alone
        plain = evaluate(CLINKER, {k: v for k, v in kiln().items() if k not in {"kiln_dust", "bypass_dust"}})
        assert plain.emissions_t is not None and e.emissions_t is not None
        assert e.emissions_t - plain.emissions_t == pytest.approx(13_093.93, abs=0.005)
        # the kiln dust's component: ∂E/∂Q_ckd = 0.523757; × 20,000 t × 5 % = 523.76 t
        ckd = next(b for b in e.budget if b.parameter == "kiln_dust")
        assert ckd.component == pytest.approx(0.5237571428571 * 20_000 * 0.05, rel=1e-9)
        assert CLINKER_DUST.activity is not None and CLINKER_DUST.activity.name == "clinker_output"

    def test_clinker_dust_uncertainty_matches_gtc(self) -> None:
        x = {"q": 1e6, "ckd": 2e4, "bpd": 5e3, "cao": 0.65, "mgo": 0.02, "caonc": 0.01, "mgonc": 0.001}
        u = {"q": 0.01, "ckd": 0.05, "bpd": 0.05, "cao": 0.005, "mgo": 0.02, "caonc": 0.1, "mgonc": 0.1}
        gtc = propagate(
            lambda q, ckd, bpd, c, m, cn, mn: (
                (q + ckd + bpd) * ((c - cn) * CO2_PER_CAO + (m - mn) * CO2_PER_MGO)
            ),
            [Input.relative(k, v, u[k]) for k, v in x.items()],
        )
        ours = evaluate(CLINKER_DUST, kiln())
        assert ours.u_t == pytest.approx(gtc.u, rel=1e-9)

    def test_raw_meal_organic_carbon(self) -> None:
        # 1,600,000 t raw meal × 0.2 % organic carbon = 3,200 t C; × 44/12 = 11,733.33 t CO2
        e = evaluate(
            RAW_MEAL,
            {"raw_meal": Value(1_600_000.0, "t", 0.02), "organic_carbon_content": Value(0.2, "%", 0.1)},
        )
        assert e.emissions_t == pytest.approx(11_733.33, abs=0.005)
        assert e.u_rel == pytest.approx(math.sqrt(0.02**2 + 0.1**2), rel=1e-12)

    def test_alternative_fuel_counts_only_its_fossil_carbon(self) -> None:
        # 10,000 t × 15 GJ/t = 150,000 GJ; × 0.025 tC/GJ = 3,750 t C; × 0.98 = 3,675 t C;
        # × 40 % fossil = 1,470 t C; × 44/12 = 5,390 t CO2
        values = {
            "consumption": Value(10_000.0, "t", 0.01),
            "ncv": Value(15.0, "GJ/t", 0.03),
            "carbon_content": Value(0.025, "tC/GJ", 0.04),
            "oxidation_rate": Value(98.0, "%", 0.005),
            "fossil_fraction": Value(40.0, "%", 0.1),
        }
        e = evaluate(ALT_FUEL, values)
        assert e.emissions_t == pytest.approx(5_390.0, abs=1e-6)
        fossil = evaluate(ALT_FUEL, {**values, "fossil_fraction": Value(100.0, "%", 0.1)})
        assert fossil.emissions_t == pytest.approx(5_390.0 / 0.4)  # all-fossil: the fuel_ncv_cc result


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["fuel_ncv_cc", "clinker", "electricity", "carbonate"]),
    st.lists(
        st.tuples(
            st.lists(st.floats(0.001, 1e6), min_size=5, max_size=5),
            st.lists(st.one_of(st.none(), st.floats(0.0, 0.2)), min_size=5, max_size=5),
            st.lists(st.sampled_from([None, "I1", "I2"]), min_size=5, max_size=5),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_evaluate_many_equals_evaluate_row_by_row(formula_id: str, rows: list[Any]) -> None:
    """The batch path the plant uses is the scalar path, line for line."""
    from carbonmeter.quant.formulas import evaluate_many
    from carbonmeter.rules.loader import load_pack

    formula = load_pack("cq-part1").formula(formula_id)
    built = [
        {
            p.name: Value(vals[j], p.units[0], us[j], f"P{j}", insts[j], None)
            for j, p in enumerate(formula.parameters)
        }
        for vals, us, insts in rows
    ]
    for batch, row in zip(evaluate_many(formula, built), built, strict=True):
        one = evaluate(formula, row)
        assert batch.emissions_t == pytest.approx(one.emissions_t, rel=1e-12)
        if one.u_t is None:
            assert batch.u_t is None
        else:
            assert batch.u_t == pytest.approx(one.u_t, rel=1e-9, abs=1e-12)
        key = [(b.point, b.parameter, b.u_rel, b.instrument) for b in one.budget]
        assert sorted(key, key=str) == sorted(
            [(b.point, b.parameter, b.u_rel, b.instrument) for b in batch.budget], key=str
        )
        for b in batch.budget:
            match = next(x for x in one.budget if x.point == b.point)
            assert (b.contribution is None) == (match.contribution is None)
            if b.contribution is not None:
                assert b.contribution == pytest.approx(match.contribution, rel=1e-9, abs=1e-12)
