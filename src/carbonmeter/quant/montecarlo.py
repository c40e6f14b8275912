"""Monte Carlo propagation of distributions (JCGM 101, "GUM Supplement 1") in numpy.

Each input is drawn ``draws`` times from its distribution (:class:`~carbonmeter.quant.uncertainty.Input`:
normal, rectangular, triangular, scaled-shifted t), the model is evaluated once on the arrays, and the
output's mean, standard deviation (the standard uncertainty) and 95 % coverage intervals are read from
the sorted draws: the probabilistically symmetric one (2.5 % and 97.5 % quantiles, JCGM 101 7.7.2) and
the shortest one (JCGM 101 7.7.3). Seed it (``seed=``) for reproducible tests.

Correlated inputs are drawn through a Gaussian copula (correlated standard normals mapped to each input's
distribution): exact for normal inputs (JCGM 101 6.4.8) and for r = ±1 (the same instrument); for other
distributions with 0 < |r| < 1 the coefficient is that of the underlying normals.

>>> from carbonmeter.quant.uncertainty import Input
>>> r = simulate(lambda a, b: a + b, [Input("a", 0.0, 1.0), Input("b", 0.0, 1.0)], draws=200_000, seed=0)
>>> round(r.u, 1), round(r.high, 1)
(1.4, 2.8)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from carbonmeter.quant.uncertainty import P95, Input

Floats = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2.0


@dataclass(frozen=True, slots=True)
class McResult:
    """The output's estimate (mean of the draws), standard uncertainty (their standard deviation) and the
    probabilistically symmetric (``low``, ``high``) and shortest coverage intervals at probability ``p``."""

    draws: int
    mean: float
    u: float
    p: float
    low: float
    high: float
    shortest: Interval

    @property
    def symmetric(self) -> Interval:
        return Interval(self.low, self.high)

    @property
    def u95_half_width(self) -> float:
        """Half-width of the probabilistically symmetric interval (contract: ``monte_carlo.u95_t``)."""
        return (self.high - self.low) / 2.0


def draw(
    inputs: Sequence[Input], draws: int, rng: np.random.Generator, correlation: Floats | None = None
) -> Floats:
    """An (inputs × draws) array of samples; ``correlation`` (inputs × inputs) couples them (copula)."""
    if draws < 2:
        raise ValueError(f"need at least 2 draws, got {draws}")
    out = np.empty((len(inputs), draws))
    coupled = (
        np.zeros(len(inputs), dtype=bool)
        if correlation is None
        else np.any(np.abs(correlation - np.eye(len(inputs))) > 0, axis=1)
    )
    if coupled.any():
        assert correlation is not None
        idx = np.flatnonzero(coupled)
        normals = _correlated_normals(correlation[np.ix_(idx, idx)], draws, rng)
        for row, i in enumerate(idx.tolist()):
            out[i] = _from_normal(inputs[i], normals[row])
    for i, inp in enumerate(inputs):
        if not coupled[i]:
            out[i] = _direct(inp, draws, rng)
    return out


def _direct(inp: Input, n: int, rng: np.random.Generator) -> Floats:
    if inp.distribution == "normal":
        return rng.normal(inp.value, inp.u, n)
    if inp.distribution == "rectangular":
        a = math.sqrt(3.0) * inp.u
        return rng.uniform(inp.value - a, inp.value + a, n)
    if inp.distribution == "triangular":
        a = math.sqrt(6.0) * inp.u
        return rng.triangular(inp.value - a, inp.value, inp.value + a, n)
    return inp.value + inp.u * rng.standard_t(inp.dof, n)


def _from_normal(inp: Input, z: Floats) -> Floats:
    """Map standard normals to the input's distribution by the probability integral transform."""
    from scipy import special

    if inp.distribution == "normal":
        return inp.value + inp.u * z
    q = np.asarray(special.ndtr(z), dtype=np.float64)
    if inp.distribution == "rectangular":
        return np.asarray(inp.value + math.sqrt(3.0) * inp.u * (2.0 * q - 1.0), dtype=np.float64)
    if inp.distribution == "triangular":
        a = math.sqrt(6.0) * inp.u
        lower = np.sqrt(2.0 * q) - 1.0
        upper = 1.0 - np.sqrt(2.0 * (1.0 - q))
        return np.asarray(inp.value + a * np.where(q < 0.5, lower, upper), dtype=np.float64)
    return np.asarray(inp.value + inp.u * special.stdtrit(inp.dof, q), dtype=np.float64)


def _correlated_normals(correlation: Floats, n: int, rng: np.random.Generator) -> Floats:
    """Standard normals with the given correlation; a positive semi-definite matrix (r = 1 is singular) is
    factored through its eigen-decomposition."""
    if not np.allclose(correlation, correlation.T) or np.any(np.abs(np.diag(correlation) - 1) > 1e-12):
        raise ValueError("a correlation matrix is symmetric with a unit diagonal")
    w, v = np.linalg.eigh(correlation)
    if w.min() < -1e-9:
        raise ValueError("correlation matrix is not positive semi-definite")
    factor = v * np.sqrt(np.clip(w, 0.0, None))
    return np.asarray(factor @ rng.standard_normal((correlation.shape[0], n)), dtype=np.float64)


def coverage_interval(sorted_draws: Floats, p: float = P95, shortest: bool = False) -> Interval:
    """The coverage interval for probability ``p`` from draws sorted ascending (JCGM 101 7.7)."""
    m = sorted_draws.size
    q = int(p * m + 0.5)  # JCGM 101 7.7.1: q = pM, rounded
    if not 0 < q < m:
        raise ValueError(f"too few draws ({m}) for p = {p}")
    if not shortest:  # JCGM 101 7.7.2: [y_(r), y_(r+q)] with r = (M − q)/2, rounded (1-based)
        r = min(max(int((m - q) / 2 + 0.5), 1), m - q)
        return Interval(float(sorted_draws[r - 1]), float(sorted_draws[r + q - 1]))
    widths = sorted_draws[q:] - sorted_draws[: m - q]  # JCGM 101 7.7.3: the shortest [y_(r), y_(r+q)]
    r = int(np.argmin(widths))
    return Interval(float(sorted_draws[r]), float(sorted_draws[r + q]))


def simulate(
    model: Callable[..., Any],
    inputs: Sequence[Input],
    draws: int = 1_000_000,
    seed: int | np.random.Generator | None = None,
    correlations: Mapping[tuple[str, str], float] | None = None,
    p: float = P95,
    chunk: int = 100_000,
) -> McResult:
    """Propagate the inputs' distributions through ``model`` (called with one array per input, in order;
    it must be vectorised: arithmetic operators and numpy functions). Draws are made ``chunk`` at a time,
    so memory stays at (inputs × chunk) floats besides the output's ``draws`` floats."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    names = [i.name for i in inputs]
    matrix = None
    if correlations:
        index = {n: k for k, n in enumerate(names)}
        matrix = np.eye(len(inputs))
        for (a, b), r in correlations.items():
            if a not in index or b not in index or a == b or not -1.0 <= r <= 1.0:
                raise ValueError(f"bad correlation {a!r}–{b!r}: {r}")
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = r
    if chunk < 2:
        raise ValueError(f"chunk must be at least 2, got {chunk}")
    ys = np.empty(draws)
    for start in range(0, draws, chunk):
        n = min(chunk, draws - start)
        x = draw(inputs, max(n, 2), rng, matrix)[:, :n]
        ys[start : start + n] = np.broadcast_to(np.asarray(model(*x), dtype=np.float64), (n,))
    ys.sort()
    sym = coverage_interval(ys, p)
    return McResult(
        draws=draws,
        mean=float(ys.mean()),
        u=float(ys.std(ddof=1)),
        p=p,
        low=sym.low,
        high=sym.high,
        shortest=coverage_interval(ys, p, shortest=True),
    )
