"""GUM propagation: the published golden cases (standards-digest §12.5), the typed inputs, and the vectorised
numpy path held against GTC.

Tolerance practice (R ``propagate``, §12.5): half a unit of the last published digit, unless stated.
"""

from __future__ import annotations

import math
from typing import ClassVar

import GTC
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmeter.quant.uncertainty import Input, combine, coverage_factor, product, propagate, tier

# --- golden cases -----------------------------------------------------------------------------------------


class TestGumH1EndGauge:
    """GUM H.1: l = l_s + d − l_s(δα·θ + α_s·δθ), lengths in nm. Published: l = 50.000 838 mm,
    u_c = 32 nm, ν_eff = 16 (GUM H.1.6 truncates 16.7 to 16)."""

    @staticmethod
    def result() -> tuple[float, float, float]:
        inputs = [
            Input("d0", 215.0, 5.8, 24),  # comparator: mean of 25 indications
            Input("d1", 0.0, 3.9, 5),  # comparator random effects
            Input("d2", 0.0, 6.7, 8),  # comparator systematic effects
            Input.rectangular("alpha_s", 11.5e-6, 2e-6),  # ±2e-6 /°C
            Input.rectangular("d_alpha", 0.0, 1e-6, 50),
            Input.rectangular("d_theta", 0.0, 0.05, 2),
            Input("theta_bar", -0.1, 0.2),
            Input("Delta", 0.0, 0.5 / math.sqrt(2.0)),  # arcsine, amplitude 0.5 °C: u = a/√2
            Input("l_s", 5.0000623e7, 25.0, 18),
        ]

        def model(
            d0: float, d1: float, d2: float, a_s: float, da: float, dt: float, tb: float, de: float, ls: float
        ) -> float:
            return ls + (d0 + d1 + d2) - ls * (da * (tb + de) + a_s * dt)

        r = propagate(model, inputs)
        return r.value, r.u, r.dof

    def test_length(self) -> None:
        value, _, _ = self.result()
        assert value / 1e6 == pytest.approx(50.000838, abs=0.0000005)  # mm

    def test_combined_standard_uncertainty(self) -> None:
        _, u, _ = self.result()
        assert u == pytest.approx(32.0, abs=0.5)  # nm; first order: 31.66

    def test_effective_degrees_of_freedom(self) -> None:
        _, _, dof = self.result()
        assert math.floor(dof) == 16  # Welch–Satterthwaite: 16.75


class TestGumH2CorrelatedInputs:
    """GUM H.2: R = V cos φ / I, X = V sin φ / I, Z = V / I with r(V,I) = −0.36, r(V,φ) = 0.86,
    r(I,φ) = −0.65. Published (Table H.4): R = 127.732 (u 0.071), X = 219.847 (u 0.295), Z = 254.260
    (u 0.236). The GUM propagated unrounded inputs; from the printed (rounded) inputs GTC and we get
    0.0700 / 0.2957 / 0.2366, so u is held to 1.5 units of the last digit, the values to half a unit."""

    INPUTS = (Input("V", 4.999, 3.2e-3), Input("I", 19.661e-3, 9.5e-6), Input("phi", 1.04446, 7.5e-4))
    CORRELATIONS: ClassVar[dict[tuple[str, str], float]] = {
        ("V", "I"): -0.36,
        ("V", "phi"): 0.86,
        ("I", "phi"): -0.65,
    }

    @pytest.mark.parametrize(
        ("name", "model", "value", "u"),
        [
            ("R", lambda v, i, p: v * GTC.cos(p) / i, 127.732, 0.071),
            ("X", lambda v, i, p: v * GTC.sin(p) / i, 219.847, 0.295),
            ("Z", lambda v, i, p: v / i, 254.260, 0.236),
        ],
    )
    def test_published(self, name: str, model: object, value: float, u: float) -> None:
        r = propagate(model, self.INPUTS, self.CORRELATIONS)  # type: ignore[arg-type]
        assert r.value == pytest.approx(value, abs=0.0005), name
        assert r.u == pytest.approx(u, abs=0.0015), name

    def test_correlation_changes_the_answer(self) -> None:
        correlated = propagate(lambda v, i, p: v / i, self.INPUTS, self.CORRELATIONS)
        independent = propagate(lambda v, i, p: v / i, self.INPUTS)
        # r(V,I) < 0 with a quotient raises u: 0.2366 against 0.2100 if independent
        assert correlated.u > independent.u + 0.02

    def test_budget_shares_add_up_with_correlation(self) -> None:
        r = propagate(lambda v, i, p: v / i, self.INPUTS, self.CORRELATIONS)
        assert sum(c.share for c in r.budget) == pytest.approx(1.0)

    def test_dof_is_undefined_for_correlated_finite_dof(self) -> None:
        inputs = [Input("a", 1.0, 0.1, 4), Input("b", 2.0, 0.1, 4)]
        r = propagate(lambda a, b: a + b, inputs, {("a", "b"): 0.5})
        assert math.isnan(r.dof)
        with pytest.raises(ValueError, match="undefined"):
            r.k()


class TestQuamA1CalibrationStandard:
    """EURACHEM/CITAC QUAM A1: c = 1000·m·P/V (mg/L), a product model like AD × NCV × CC × OF. Published
    (GTC docs/API/CITAC_A1.rst): c = 1002.7 mg/L, u = 0.835; budget m 0.49995, V_T 0.486284, V_flask
    0.40935, V_rep 0.20054, P 0.0578967."""

    @staticmethod
    def result() -> tuple[float, float, dict[str, float]]:
        inputs = [
            Input.rectangular("P", 0.9999, 0.0001),
            Input("m", 100.28, 0.05),
            Input.triangular("V_flask", 100.0, 0.1),
            Input("V_rep", 0.0, 0.02),
            Input.rectangular("V_T", 0.0, 0.084),
        ]
        r = propagate(lambda p, m, vf, vr, vt: 1000 * m * p / (vf + vr + vt), inputs)
        return r.value, r.u, {c.name: abs(c.component) for c in r.budget}

    def test_concentration_and_u(self) -> None:
        c, u, _ = self.result()
        assert c == pytest.approx(1002.7, abs=0.05)
        assert u == pytest.approx(0.835, abs=0.0005)

    def test_budget(self) -> None:
        _, _, budget = self.result()
        published = {"m": 0.49995, "V_T": 0.486284, "V_flask": 0.40935, "V_rep": 0.20054, "P": 0.0578967}
        assert budget == pytest.approx(published, abs=5e-6)


class TestNaturalGas:
    """MeterProof: 10,000 t × 48.0 GJ/t × 56.1 tCO2/TJ = 26,928 t; an activity uncertainty of ±5 % is
    ±1,346.4 t (26,928 × 0.05). Here as a product with only the amount uncertain (U = 5 %, k = 2)."""

    def test_value_and_expanded(self) -> None:
        inputs = [
            Input.normal("amount", 10_000.0, 500.0, k=2.0),  # ±5 % at k = 2
            Input("ncv", 48.0, 0.0),
            Input("ef", 56.1 / 1000.0, 0.0),  # tCO2/TJ → tCO2/GJ
        ]
        r = propagate(lambda a, n, f: a * n * f, inputs)
        assert r.value == pytest.approx(26_928.0, abs=0.5)
        assert r.expanded(k=2.0) == pytest.approx(1_346.4, abs=0.05)


# --- inputs, k ---------------------------------------------------------------------------------------------


class TestInput:
    def test_normal_from_certificate(self) -> None:
        assert Input.normal("x", 100.0, 0.4, k=2).u == pytest.approx(0.2)

    def test_rectangular_from_mpe(self) -> None:
        i = Input.from_mpe_percent("x", 200.0, 0.5)  # ±1.0 → 1/√3
        assert i.u == pytest.approx(1.0 / math.sqrt(3.0))
        assert i.distribution == "rectangular"

    def test_triangular(self) -> None:
        assert Input.triangular("x", 0.0, 0.6).u == pytest.approx(0.6 / math.sqrt(6.0))

    def test_relative(self) -> None:
        assert Input.relative("x", -50.0, 0.02).u == pytest.approx(1.0)

    @pytest.mark.parametrize("bad", [{"u": -1.0}, {"u": math.nan}, {"dof": 0.0}])
    def test_refuses_nonsense(self, bad: dict[str, float]) -> None:
        args: dict[str, float] = {"value": 1.0, "u": 0.1, "dof": math.inf} | bad
        with pytest.raises(ValueError):
            Input("x", args["value"], args["u"], args["dof"])

    def test_t_needs_finite_dof(self) -> None:
        with pytest.raises(ValueError, match="t input"):
            Input("x", 1.0, 0.1, distribution="t")


def test_coverage_factors_are_student_t() -> None:
    # t_{0.975}: ν = 2 → 4.303, 16 → 2.120, 50 → 2.009 (stack.md §4), ∞ → 1.960
    k = coverage_factor([2.0, 16.0, 50.0, math.inf])
    assert k.tolist() == pytest.approx([4.303, 2.120, 2.009, 1.960], abs=0.0005)


def test_welch_satterthwaite_by_hand() -> None:
    # u1 = 3 (ν 4), u2 = 4 (ν ∞): u = 5, ν_eff = 5⁴ / (3⁴/4) = 625/20.25 = 30.864
    r = propagate(lambda a, b: a + b, [Input("a", 0.0, 3.0, 4), Input("b", 0.0, 4.0)])
    assert r.u == pytest.approx(5.0)
    assert r.dof == pytest.approx(625 / 20.25)
    assert combine([3.0, 4.0], dof=[4.0, math.inf]).dof[0] == pytest.approx(625 / 20.25)


# --- the vectorised path against GTC -----------------------------------------------------------------------


def _gtc_product(values: list[float], u_rel: list[float], exponents: list[float], groups: list[int]) -> float:
    """GTC's u_rel of Π xᵢ^pᵢ with inputs of one group fully correlated (r = 1)."""
    xs = [GTC.ureal(v, abs(v) * r, independent=g < 0) for v, r, g in zip(values, u_rel, groups, strict=True)]
    for i, gi in enumerate(groups):
        for j in range(i + 1, len(groups)):
            if gi >= 0 and gi == groups[j] and u_rel[i] > 0 and u_rel[j] > 0:  # u = 0 is a constant to GTC
                GTC.set_correlation(1.0, xs[i], xs[j])
    y = xs[0] ** exponents[0]
    for x, p in zip(xs[1:], exponents[1:], strict=True):
        y = y * x**p
    return float(GTC.uncertainty(y) / abs(GTC.value(y)))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.1, 1e5),
            st.floats(0.0, 0.1),
            st.sampled_from([1.0, 2.0, 0.5]),  # GTC's sqrt fails on an exact r = 1 cancellation (x/x)
            st.sampled_from([-1, 0, 1]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_product_matches_gtc(rows: list[tuple[float, float, float, int]]) -> None:
    values, u_rel, exponents, groups = (list(c) for c in zip(*rows, strict=True))
    p = product([values], [u_rel], exponents, group=[groups])
    assert float(p.u_rel[0]) == pytest.approx(
        _gtc_product(values, u_rel, exponents, groups), rel=1e-9, abs=1e-12
    )


def test_combine_many_outputs_at_once_matches_one_by_one() -> None:
    rng = np.random.default_rng(7)
    n_out, per = 5_000, 4
    comp = rng.normal(0.0, 1.0, n_out * per)
    out = np.repeat(np.arange(n_out), per)
    grp = rng.integers(-1, 2, n_out * per)
    batch = combine(comp, out, grp)
    for k in (0, 1, 2_345, 4_999):
        sl = slice(k * per, (k + 1) * per)
        one = combine(comp[sl], group=grp[sl])
        assert batch.u[k] == pytest.approx(one.u[0])
        assert batch.share[sl] == pytest.approx(one.share)


def test_same_instrument_adds_linearly() -> None:
    # two parts of one flow read by the same meter: components 3 and 4 add to 7, not to 5
    assert combine([3.0, 4.0], group=[0, 0]).u[0] == pytest.approx(7.0)
    assert combine([3.0, 4.0], group=[-1, -1]).u[0] == pytest.approx(5.0)
    # a deducted stream (sign −1) on the same meter cancels
    assert combine([3.0, -3.0], group=[0, 0]).u[0] == pytest.approx(0.0)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.1, 1e4), st.floats(1e-4, 0.1)), min_size=1, max_size=6),
    st.integers(0, 5),
    st.floats(0.0, 1.0),
)
def test_a_smaller_input_uncertainty_never_raises_the_combined(
    rows: list[tuple[float, float]], which: int, shrink: float
) -> None:
    values = [v for v, _ in rows]
    u_rel = [u for _, u in rows]
    i = which % len(rows)
    better = list(u_rel)
    better[i] = u_rel[i] * shrink
    before = product([values], [u_rel]).u[0]
    after = product([values], [better]).u[0]
    assert after <= before * (1 + 1e-12)


class TestTier:
    """Annex II Table 1 as the pack will carry it (standards-digest §10.2): U95 ≤ 1.5 % → 4, ≤ 2.5 % → 3,
    ≤ 5 % → 2, ≤ 7.5 % → 1, else 0. The table is test data here."""

    TABLE: ClassVar[dict[int, float]] = {1: 7.5, 2: 5.0, 3: 2.5, 4: 1.5}

    @pytest.mark.parametrize(
        ("u95", "expected"),
        [(0.0, 4), (1.5, 4), (1.51, 3), (2.5, 3), (5.0, 2), (7.5, 1), (7.51, 0), (None, None)],
    )
    def test_boundaries_are_inclusive(self, u95: float | None, expected: int | None) -> None:
        assert tier(u95, self.TABLE) == expected

    def test_a_table_without_tier_4(self) -> None:
        # flaring: ±17.5 / 12.5 / 7.5 %, no tier 4
        assert tier(1.0, {1: 17.5, 2: 12.5, 3: 7.5}) == 3
