"""Monte Carlo (JCGM 101): the published §9.2 cases, agreement with GUM on linear and product models, the
distributions, the coverage intervals and correlated draws.

Tolerance (standards-digest §12.5): half a unit of the last published digit plus 4 Monte Carlo standard
errors. With M = 10^6 draws the standard error of a 95 % end-point of a N(0, 2²) output is about 0.005
(√(p(1−p)/M)/φ(1.96)·2), and of its standard deviation 2/√(2M) ≈ 0.0014.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from carbonmeter.quant.montecarlo import coverage_interval, draw, simulate
from carbonmeter.quant.uncertainty import Input, propagate

M = 1_000_000


def _sum4(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    return a + b + c + d


class TestJcgm101Section92:
    def test_922_normal_inputs(self) -> None:
        """§9.2.2: Y = X1 + X2 + X3 + X4, Xi ~ N(0, 1): u(y) = 2.0, 95 % interval [−3.92, 3.92]."""
        r = simulate(_sum4, [Input(f"x{i}", 0.0, 1.0) for i in range(4)], draws=M, seed=922)
        assert r.u == pytest.approx(2.0, abs=0.05 + 4 * 0.0014)
        assert r.low == pytest.approx(-3.92, abs=0.005 + 4 * 0.005)
        assert r.high == pytest.approx(3.92, abs=0.005 + 4 * 0.005)

    def test_923_rectangular_inputs(self) -> None:
        """§9.2.3: the same, Xi rectangular with standard deviation 1: u(y) = 2.0, interval [−3.88, 3.88]."""
        inputs = [Input.rectangular(f"x{i}", 0.0, math.sqrt(3.0)) for i in range(4)]
        r = simulate(_sum4, inputs, draws=M, seed=923)
        assert r.u == pytest.approx(2.0, abs=0.05 + 4 * 0.0014)
        assert r.low == pytest.approx(-3.88, abs=0.005 + 4 * 0.005)
        assert r.high == pytest.approx(3.88, abs=0.005 + 4 * 0.005)

    def test_symmetric_output_has_a_symmetric_shortest_interval(self) -> None:
        r = simulate(_sum4, [Input(f"x{i}", 0.0, 1.0) for i in range(4)], draws=M, seed=1)
        assert r.shortest.half_width == pytest.approx(r.symmetric.half_width, rel=0.01)
        assert r.shortest.half_width <= r.symmetric.half_width + 1e-12


class TestAgreesWithGum:
    """A linear model and a product model: Monte Carlo's u within 1 % of GUM's first-order u."""

    def test_linear(self) -> None:
        inputs = [Input("a", 100.0, 2.0), Input.rectangular("b", 50.0, 3.0), Input.triangular("c", 20.0, 1.5)]
        gum = propagate(lambda a, b, c: a - 2 * b + c, inputs)
        mc = simulate(lambda a, b, c: a - 2 * b + c, inputs, draws=M, seed=11)
        assert mc.mean == pytest.approx(gum.value, abs=4 * gum.u / math.sqrt(M))
        assert mc.u == pytest.approx(gum.u, rel=0.01)

    def test_product_fuel_ncv_cc(self) -> None:
        """E = FC·NCV·CC·OF·44/12 with u_rel 1 %, 2 %, 3 %, 0.5 % (stack.md §4): GUM u_rel = √14.25 % =
        3.775 %; MC agrees to 1 % of u, and its 95 % half-width is close to 1.96·u."""
        inputs = [
            Input.relative("fc", 10_000.0, 0.01),
            Input.relative("ncv", 48.0, 0.02),
            Input.relative("cc", 0.0153, 0.03),
            Input.relative("of", 0.99, 0.005),
        ]

        def model(fc: np.ndarray, ncv: np.ndarray, cc: np.ndarray, of: np.ndarray) -> np.ndarray:
            return fc * ncv * cc * of * 44 / 12

        gum = propagate(model, inputs)
        assert gum.u_rel == pytest.approx(math.sqrt(14.25) / 100, rel=1e-9)
        mc = simulate(model, inputs, draws=M, seed=12)
        assert mc.u == pytest.approx(gum.u, rel=0.01)
        assert mc.u95_half_width == pytest.approx(1.96 * gum.u, rel=0.02)

    def test_correlated_normals_match_gum_h2_style(self) -> None:
        inputs = [Input("a", 10.0, 0.1), Input("b", 5.0, 0.2)]
        corr = {("a", "b"): 0.7}
        gum = propagate(lambda a, b: a * b, inputs, corr)
        mc = simulate(lambda a, b: a * b, inputs, draws=M, seed=13, correlations=corr)
        assert mc.u == pytest.approx(gum.u, rel=0.01)


class TestDraws:
    @pytest.mark.parametrize(
        "inp",
        [
            Input("n", 5.0, 2.0),
            Input.rectangular("r", 5.0, 3.0),
            Input.triangular("t", 5.0, 3.0),
        ],
    )
    def test_mean_and_standard_deviation(self, inp: Input) -> None:
        x = draw([inp], M, np.random.default_rng(3))[0]
        assert x.mean() == pytest.approx(inp.value, abs=5 * inp.u / math.sqrt(M))
        assert x.std() == pytest.approx(inp.u, rel=0.005)

    def test_scaled_shifted_t(self) -> None:
        # JCGM 101 6.4.9: x + u·t_ν has standard deviation u·√(ν/(ν−2)) = 1·√(5/3) for ν = 5
        x = draw([Input("t", 0.0, 1.0, 5, "t")], M, np.random.default_rng(4))[0]
        assert x.std() == pytest.approx(math.sqrt(5 / 3), rel=0.01)

    def test_rectangular_stays_within_its_bounds(self) -> None:
        x = draw([Input.rectangular("r", 1.0, 0.5)], 100_000, np.random.default_rng(5))[0]
        assert x.min() >= 0.5
        assert x.max() <= 1.5

    def test_full_correlation_draws_the_same_rectangular_value(self) -> None:
        """Two inputs of one instrument (r = 1) move together, also when rectangular (copula)."""
        a, b = Input.rectangular("a", 0.0, 1.0), Input.rectangular("b", 10.0, 2.0)
        x = draw([a, b], 10_000, np.random.default_rng(6), np.array([[1.0, 1.0], [1.0, 1.0]]))
        assert np.allclose((x[1] - 10.0) / 2.0, x[0])
        assert x[0].min() >= -1.0
        assert x[0].max() <= 1.0

    def test_seed_reproduces(self) -> None:
        inputs = [Input("a", 1.0, 0.1)]
        assert simulate(lambda a: a, inputs, 1_000, seed=9) == simulate(lambda a: a, inputs, 1_000, seed=9)

    def test_chunks_bound_memory_not_the_answer(self) -> None:
        inputs = [Input("a", 10.0, 1.0), Input.rectangular("b", 5.0, 1.0)]
        small = simulate(lambda a, b: a * b, inputs, 200_001, seed=8, chunk=1_000)
        whole = simulate(lambda a, b: a * b, inputs, 200_001, seed=8, chunk=10**6)
        assert small.draws == whole.draws == 200_001
        assert small.u == pytest.approx(whole.u, rel=0.01)
        with pytest.raises(ValueError, match="chunk"):
            simulate(lambda a, b: a * b, inputs, 100, chunk=1)

    def test_refuses_a_non_correlation_matrix(self) -> None:
        with pytest.raises(ValueError, match="semi-definite"):
            simulate(
                lambda a, b, c: a + b + c,
                [Input("a", 0, 1), Input("b", 0, 1), Input("c", 0, 1)],
                1_000,
                correlations={("a", "b"): 0.9, ("b", "c"): 0.9, ("a", "c"): -0.9},
            )


class TestCoverageInterval:
    def test_by_hand(self) -> None:
        """M = 20, p = 0.9: q = 18, r = 1; symmetric [y(1), y(19)]; the shortest of [y(r), y(r+18)]."""
        y = np.array([0.0, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28.5])
        sym = coverage_interval(y, 0.9)
        assert (sym.low, sym.high) == (0.0, 27.0)
        short = coverage_interval(y, 0.9, shortest=True)
        assert (short.low, short.high) == (10.0, 28.5)  # 18.5 wide, against 27 from y(1)

    def test_too_few_draws(self) -> None:
        with pytest.raises(ValueError, match="too few"):
            coverage_interval(np.array([1.0, 2.0]), 0.95)
