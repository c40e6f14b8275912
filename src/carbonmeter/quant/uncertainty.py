"""GUM (JCGM 100) propagation: typed inputs, combined standard uncertainty, Welch–Satterthwaite, k, U95,
budget.

Two paths that give the same numbers (the tests hold them together):

- :func:`propagate` — any model written with arithmetic operators over named inputs, with correlations. The
  arithmetic is done by GTC 1.5.1 (MSL NZ, the GUM Tree Calculator): exact first-order sensitivities by
  automatic differentiation, Welch–Satterthwaite degrees of freedom and the budget. For one stream, a golden
  case, a page that shows a budget.
- :func:`combine` and :func:`product` — vectorised numpy for the plant: many outputs at once (5,000 streams in
  one call), inputs given by their signed contributions ``cᵢ·u(xᵢ)``, fully correlated (r = 1) inside a
  group (inputs determined by the same instrument, contract §6.3) and independent otherwise.

An input's **contribution** to the budget is its share of the output's variance,
``cᵢuᵢ · Σⱼ rᵢⱼ cⱼuⱼ / u_c²``: the shares add up to 1; without correlation it is ``(cᵢuᵢ)² / u_c²``.

>>> fuel = Input.relative("consumption", 10_000.0, 0.01)
>>> ncv = Input.relative("ncv", 48.0, 0.02)
>>> r = propagate(lambda ad, ncv: ad * ncv, [fuel, ncv])
>>> round(r.value), round(r.u_rel, 6)
(480000, 0.022361)
>>> [(c.name, round(c.share, 2)) for c in r.budget]
[('ncv', 0.8), ('consumption', 0.2)]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Distribution = Literal["normal", "rectangular", "triangular", "t"]
Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

#: Coverage probability of the expanded uncertainty "U95".
P95 = 0.95


@dataclass(frozen=True, slots=True)
class Input:
    """One input quantity: its estimate ``value``, standard uncertainty ``u``, degrees of freedom ``dof``
    (``inf`` for a certificate's or a bound's, ``n − 1`` for a mean of n readings) and the distribution the
    Monte Carlo draws from (JCGM 101 6.4): normal, rectangular (half-width √3·u), triangular (half-width
    √6·u) or a scaled and shifted t with ``dof`` degrees of freedom (scale ``u``)."""

    name: str
    value: float
    u: float
    dof: float = math.inf
    distribution: Distribution = "normal"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.value) and math.isfinite(self.u)) or self.u < 0:
            raise ValueError(f"{self.name}: value and u must be finite, u ≥ 0 (got {self.value}, {self.u})")
        if not self.dof > 0:
            raise ValueError(f"{self.name}: degrees of freedom must be > 0 (got {self.dof})")
        if self.distribution == "t" and not (math.isfinite(self.dof) and self.dof > 2):
            raise ValueError(f"{self.name}: a t input needs finite dof > 2 (got {self.dof})")

    @classmethod
    def normal(cls, name: str, value: float, expanded: float, k: float = 2.0, dof: float = math.inf) -> Input:
        """From a certificate's expanded uncertainty ``U`` and coverage factor ``k``: ``u = U/k``, normal."""
        if not k > 0:
            raise ValueError(f"{name}: coverage factor must be > 0 (got {k})")
        return cls(name, value, expanded / k, dof, "normal")

    @classmethod
    def rectangular(cls, name: str, value: float, half_width: float, dof: float = math.inf) -> Input:
        """From bounds ``value ± a`` (an MPE, a resolution): ``u = a/√3``, rectangular (GUM 4.3.7)."""
        return cls(name, value, abs(half_width) / math.sqrt(3.0), dof, "rectangular")

    @classmethod
    def from_mpe_percent(cls, name: str, value: float, mpe_percent: float) -> Input:
        """From a maximum permissible error in % of the value: rectangular with ``a = |value|·MPE/100``."""
        return cls.rectangular(name, value, abs(value) * mpe_percent / 100.0)

    @classmethod
    def triangular(cls, name: str, value: float, half_width: float, dof: float = math.inf) -> Input:
        """From bounds ``value ± a`` with the middle most likely: ``u = a/√6`` (GUM 4.3.9)."""
        return cls(name, value, abs(half_width) / math.sqrt(6.0), dof, "triangular")

    @classmethod
    def relative(
        cls,
        name: str,
        value: float,
        u_rel: float,
        dof: float = math.inf,
        distribution: Distribution = "normal",
    ) -> Input:
        """From a relative standard uncertainty (``u = |value|·u_rel``; the contract's ``u_rel``)."""
        return cls(name, value, abs(value) * u_rel, dof, distribution)

    @property
    def u_rel(self) -> float:
        return self.u / abs(self.value) if self.value else math.inf


@dataclass(frozen=True, slots=True)
class Contribution:
    """One line of a budget: the input, its sensitivity coefficient ``cᵢ = ∂y/∂xᵢ``, its signed component
    ``cᵢ·u(xᵢ)`` and its share of the output's variance."""

    name: str
    sensitivity: float
    component: float
    share: float


@dataclass(frozen=True, slots=True)
class Result:
    """A propagated estimate with its combined standard uncertainty ``u``, effective degrees of freedom
    (``nan`` where Welch–Satterthwaite does not apply: correlated inputs with finite dof) and its budget,
    largest share first."""

    value: float
    u: float
    dof: float
    budget: tuple[Contribution, ...]

    @property
    def u_rel(self) -> float:
        return self.u / abs(self.value) if self.value else math.inf

    def k(self, p: float = P95) -> float:
        """The coverage factor for probability ``p`` from the t-distribution with :attr:`dof` (GUM G.3)."""
        return float(coverage_factor(np.array([self.dof]), p)[0])

    def expanded(self, k: float | None = None, p: float = P95) -> float:
        """``U = k·u``: with the given ``k`` (the pack's), else the t-based one for ``p``."""
        return (self.k(p) if k is None else k) * self.u


def coverage_factor(dof: ArrayLike, p: float = P95) -> Floats:
    """Student-t coverage factors ``t_{(1+p)/2}(ν)`` for an array of degrees of freedom (``inf`` → normal).

    >>> [round(float(k), 3) for k in coverage_factor([math.inf, 50.0, 16.0])]
    [1.96, 2.009, 2.12]
    """
    from scipy import special  # lazily: scipy takes ~0.4 s to import

    if not 0.0 < p < 1.0:
        raise ValueError(f"coverage probability must lie in (0, 1), got {p}")
    nu = np.asarray(dof, dtype=np.float64)
    if np.any(np.isnan(nu)):
        raise ValueError("degrees of freedom undefined (correlated inputs with finite dof)")
    if np.any(nu < 1):
        raise ValueError("degrees of freedom must be ≥ 1")
    q = (1.0 + p) / 2.0
    finite = np.isfinite(nu)
    out = np.full(nu.shape, float(special.ndtri(q)))
    out[finite] = special.stdtrit(nu[finite], q)
    return out


def propagate(
    model: Callable[..., Any],
    inputs: Sequence[Input],
    correlations: Mapping[tuple[str, str], float] | None = None,
) -> Result:
    """First-order GUM propagation of ``inputs`` through ``model`` (called with the inputs in order, by
    position) with the given correlation coefficients, by GTC. The model uses arithmetic operators (and
    GTC's functions for anything else, e.g. ``GTC.cos``)."""
    import GTC  # lazily: GTC imports scipy

    names = [i.name for i in inputs]
    if len(set(names)) != len(names):
        raise ValueError(f"input names must be unique: {names}")
    pairs = dict(correlations or {})
    for a, b in pairs:
        if a not in names or b not in names or a == b:
            raise ValueError(f"correlation between unknown or identical inputs: {a!r}, {b!r}")
    certain = {i.name for i in inputs if i.u == 0}  # a constant to GTC: its correlations are moot
    pairs = {pair: r for pair, r in pairs.items() if not set(pair) & certain}
    correlated = {n for pair in pairs for n in pair}
    # Welch–Satterthwaite is invalid for correlated inputs with finite dof (GUM H.2): GTC refuses them
    # outside an ensemble, so they enter with infinite dof and the result's dof is undefined (nan).
    undefined_dof = any(i.name in correlated and math.isfinite(i.dof) for i in inputs)
    ureals = [
        GTC.ureal(
            i.value,
            i.u,
            math.inf if i.name in correlated else i.dof,
            label=i.name,
            independent=i.name not in correlated,
        )
        for i in inputs
    ]
    by_name = dict(zip(names, ureals, strict=True))
    for (a, b), r in pairs.items():
        if not -1.0 <= r <= 1.0:
            raise ValueError(f"correlation {a!r}–{b!r} must lie in [-1, 1], got {r}")
        GTC.set_correlation(r, by_name[a], by_name[b])
    y = model(*ureals)
    value = float(GTC.value(y))
    u = float(GTC.uncertainty(y))
    components = np.array([float(GTC.reporting.u_component(y, x)) for x in ureals])
    sensitivities = [float(GTC.reporting.sensitivity(y, x)) for x in ureals]
    matrix = _correlation_matrix(names, pairs)
    shares = components * (matrix @ components) / u**2 if u > 0 else np.zeros(len(names))
    dof = math.nan if undefined_dof else float(GTC.dof(y))
    budget = sorted(
        (
            Contribution(n, c, float(cu), float(s))
            for n, c, cu, s in zip(names, sensitivities, components, shares, strict=True)
        ),
        key=lambda c: -abs(c.share),
    )
    return Result(value, u, dof if math.isfinite(dof) or dof == math.inf else math.nan, tuple(budget))


def _correlation_matrix(names: Sequence[str], pairs: Mapping[tuple[str, str], float]) -> Floats:
    index = {n: i for i, n in enumerate(names)}
    matrix = np.eye(len(names))
    for (a, b), r in pairs.items():
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = r
    return matrix


@dataclass(frozen=True, slots=True)
class Combined:
    """The vectorised result: per output the combined standard uncertainty ``u`` and the effective degrees
    of freedom; per input its share of its output's variance."""

    u: Floats
    dof: Floats
    share: Floats


def combine(
    components: ArrayLike,
    output: ArrayLike | None = None,
    group: ArrayLike | None = None,
    dof: ArrayLike | None = None,
    n_outputs: int | None = None,
) -> Combined:
    """Combine signed components ``cᵢ·u(xᵢ)`` into the standard uncertainty of each output, vectorised.

    ``output[i]`` is the output input i belongs to (default: all to output 0). Inputs of one output with the
    same ``group[i] ≥ 0`` are fully correlated (r = 1: their components add before squaring — the same
    instrument); ``group[i] < 0`` is independent. ``dof[i]`` (default ``inf``) feeds Welch–Satterthwaite,
    ``ν_eff = u⁴ / Σ (cᵢuᵢ)⁴/νᵢ``, where a correlated group counts as one term with the smallest dof of its
    members.

    >>> c = combine([3.0, 4.0, 1.0, 1.0], output=[0, 0, 1, 1], group=[-1, -1, 7, 7])
    >>> c.u.tolist(), c.share.tolist()
    ([5.0, 2.0], [0.36, 0.64, 0.5, 0.5])
    """
    comp = np.asarray(components, dtype=np.float64).ravel()
    n = comp.size
    out = np.zeros(n, dtype=np.int64) if output is None else np.asarray(output, dtype=np.int64).ravel()
    grp = np.full(n, -1, dtype=np.int64) if group is None else np.asarray(group, dtype=np.int64).ravel()
    nu = np.full(n, np.inf) if dof is None else np.asarray(dof, dtype=np.float64).ravel()
    if not (out.size == grp.size == nu.size == n):
        raise ValueError("components, output, group and dof must have the same length")
    m = int(out.max()) + 1 if n_outputs is None else n_outputs
    if n == 0:
        return Combined(np.zeros(m), np.full(m, np.inf), np.zeros(0))
    # One key per (output, correlated group); an independent input is a group of its own.
    own = np.arange(n, dtype=np.int64)
    span = int(max(grp.max(initial=-1) + 1, 0)) + n
    keys = out * span + np.where(grp >= 0, grp, grp.max(initial=-1) + 1 + own)
    unique, inverse = np.unique(keys, return_inverse=True)
    sums = np.bincount(inverse, weights=comp, minlength=unique.size)
    key_output = unique // span
    variance = np.bincount(key_output, weights=sums**2, minlength=m)
    u = np.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(variance[out] > 0, comp * sums[inverse] / variance[out], 0.0)
        key_dof = np.full(unique.size, np.inf)
        np.minimum.at(key_dof, inverse, nu)
        terms = np.where(np.isfinite(key_dof), sums**4 / key_dof, 0.0)
        denominator = np.bincount(key_output, weights=terms, minlength=m)
        eff = np.where(denominator > 0, variance**2 / denominator, np.inf)
    return Combined(u, eff, share)


@dataclass(frozen=True, slots=True)
class Product:
    """Vectorised :func:`product`: per output the value, ``u`` and ``u_rel``; per input its share."""

    value: Floats
    u: Floats
    u_rel: Floats
    share: Floats


def product(
    values: ArrayLike,
    u_rel: ArrayLike,
    exponents: ArrayLike | None = None,
    constant: ArrayLike = 1.0,
    group: ArrayLike | None = None,
) -> Product:
    """Outputs ``y = constant · Π xᵢ^pᵢ`` for a batch: ``values`` and ``u_rel`` of shape (outputs, inputs).
    First order, the relative sensitivity of ``xᵢ`` is ``pᵢ``, so ``u_rel(y)² = Σ (pᵢ·u_rel(xᵢ))²`` (plus
    the cross terms of a correlated ``group`` (same shape, ``< 0`` independent)).

    >>> p = product([[10_000.0, 48.0]], [[0.01, 0.02]])
    >>> float(p.value[0]), round(float(p.u_rel[0]), 6)
    (480000.0, 0.022361)
    """
    x = np.atleast_2d(np.asarray(values, dtype=np.float64))
    rel = np.broadcast_to(np.asarray(u_rel, dtype=np.float64), x.shape)
    power = np.ones(x.shape[1]) if exponents is None else np.asarray(exponents, dtype=np.float64)
    y = np.asarray(constant, dtype=np.float64) * np.prod(x**power, axis=1)
    rows, cols = x.shape
    grp = (
        np.full(x.shape, -1, dtype=np.int64)
        if group is None
        else np.broadcast_to(np.asarray(group, dtype=np.int64), x.shape)
    )
    combined = combine(
        (np.broadcast_to(power, x.shape) * rel).ravel(),
        output=np.repeat(np.arange(rows, dtype=np.int64), cols),
        group=grp.ravel(),
        n_outputs=rows,
    )
    return Product(y, np.abs(y) * combined.u, combined.u, combined.share.reshape(rows, cols))


def tier(u95_percent: float | None, thresholds: Mapping[int, float]) -> int | None:
    """The EU MRR tier an activity amount's expanded uncertainty reaches (contract §6.3): the highest tier
    whose maximum permissible U95 (``thresholds``: tier → %, from the pack) it does not exceed; 0 when it
    reaches none; ``None`` when the uncertainty is not judged.

    >>> table = {1: 7.5, 2: 5.0, 3: 2.5, 4: 1.5}  # illustration; the pack holds the numbers
    >>> [tier(u, table) for u in (1.5, 2.0, 7.5, 9.0, None)]
    [4, 3, 1, 0, None]
    """
    if u95_percent is None:
        return None
    reached = [t for t, limit in thresholds.items() if u95_percent <= limit]
    return max(reached, default=0)


def budget_order(names: Iterable[str], shares: ArrayLike) -> list[tuple[str, float]]:
    """``(name, share)`` pairs, largest share first (ties: the given order)."""
    pairs = list(zip(names, np.asarray(shares, dtype=np.float64).tolist(), strict=True))
    return sorted(pairs, key=lambda p: -abs(p[1]))
