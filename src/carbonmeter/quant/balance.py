"""Metering-network balance (计量网络平衡, GB/T 35461-type checks; issue 6.3.1): a main meter against the sum
of its sub-meters, judged against the meters' own uncertainties.

A metering network is a tree per quantity: a main meter (主表) and the sub-meters (分表) directly below it,
each of which may be the main meter of a network of its own. For one month and one main meter:

- **imbalance** (不平衡量) ``r = main − Σ sub``;
- its **combined standard uncertainty** ``u_c = √(u_main² + Σ u_sub²)``, the meters independent (GUM 5.1.2,
  every sensitivity ±1), each ``uᵢ = |totalᵢ|·u_relᵢ``;
- **expanded uncertainty** (扩展不确定度) ``U95 = k·u_c`` with the rule pack's coverage factor ``k``;
- **significant** (显著) when ``|r| > U95``: the meters' stated uncertainties do not account for the
  difference, so a meter (or an unmetered consumer, a leak, a wrong tree) is out.

**The most likely faulty meter.** One balance equation cannot tell the meters apart statistically: under
"meter i alone carries a gross error", the least-squares estimate of that error is the whole imbalance and
the gross-error test statistic is ``r²/u_c²`` for every i (the meters are not *identifiable*, in data
reconciliation terms). What can be ranked is plausibility: if meter i alone were wrong, its reading would
need the correction ``cᵢ = −r`` (main) or ``+r`` (a sub-meter), which is ``zᵢ = |r| / uᵢ`` of its own standard
uncertainties. The meter for which that correction is least implausible — the smallest ``zᵢ``, i.e. the
largest absolute standard uncertainty — is named; ties go to the first in the network's order (main, then
sub-meters as given). The same meter takes the largest share of the imbalance in a weighted least-squares
reconciliation (share ``uᵢ²/u_c²``, Sigmafine's "correction/tolerance" test), so the two readings of "most
likely" agree. Every meter's ``z`` and share are returned, so a page can show the whole ranking; ``z ≤ k``
says the meter alone could explain the imbalance within its own expanded uncertainty.

A month in which a meter has no total, or a meter has no uncertainty, is not judged (a reason, never a
guess). Pure: numbers in, numbers out; the web shell fetches the totals and the uncertainties.

>>> main = Meter("M", 1000.0, 0.005)
>>> b = judge(main, [Meter("A", 600.0, 0.01), Meter("B", 350.0, 0.01)], k=2.0)
>>> b.imbalance, round(b.u, 3), round(b.u95, 3), b.significant, b.suspect
(50.0, 8.559, 17.117, True, 'A')
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from carbonmeter.quant.uncertainty import combine

NotJudged = Literal["no_total", "no_uncertainty"]


class NetworkError(ValueError):
    """A tree that is not one: a cycle, or a meter that is its own main meter. Names the meters."""


@dataclass(frozen=True, slots=True)
class Meter:
    """One meter in one month: its id, the month's total (None: no data) and its relative standard
    uncertainty (None: no source, contract §6.3)."""

    id: str
    total: float | None
    u_rel: float | None

    @property
    def u(self) -> float | None:
        """The absolute standard uncertainty of the total."""
        if self.total is None or self.u_rel is None:
            return None
        return abs(self.total) * self.u_rel


@dataclass(frozen=True, slots=True)
class Suspect:
    """One meter under the hypothesis "this meter alone is wrong": the correction its reading would need
    (``corrected = total + correction``), that correction in units of its own standard uncertainty ``z``
    (``inf`` for a meter without uncertainty) and its share ``uᵢ²/u_c²`` of the balance's variance."""

    id: str
    correction: float
    z: float
    share: float


@dataclass(frozen=True, slots=True)
class Balance:
    """The judgement of one main meter against its sub-meters in one month.

    ``not_judged`` names why there is no judgement (``no_total``, ``no_uncertainty``) and ``missing`` the
    meters concerned; then the numbers that could not be formed are None."""

    main: str
    subs: tuple[str, ...]
    main_total: float | None
    sub_total: float | None
    imbalance: float | None
    u: float | None
    k: float
    suspects: tuple[Suspect, ...] = ()
    not_judged: NotJudged | None = None
    missing: tuple[str, ...] = ()

    @property
    def u95(self) -> float | None:
        """The expanded uncertainty ``U95 = k·u_c``."""
        return None if self.u is None else self.k * self.u

    @property
    def imbalance_rel(self) -> float | None:
        """The imbalance as a fraction of the main meter's total (None when that is zero or unknown)."""
        if self.imbalance is None or not self.main_total:
            return None
        return self.imbalance / self.main_total

    @property
    def significant(self) -> bool | None:
        """``|r| > U95``; None when not judged."""
        if self.imbalance is None or self.u95 is None:
            return None
        return abs(self.imbalance) > self.u95

    @property
    def suspect(self) -> str | None:
        """The most likely faulty meter of a significant imbalance (module docstring); None otherwise or
        when no meter has an uncertainty to be measured against."""
        if not self.significant:
            return None
        finite = [s for s in self.suspects if math.isfinite(s.z)]
        return min(finite, key=lambda s: s.z).id if finite else None


def judge(main: Meter, subs: Sequence[Meter], k: float) -> Balance:
    """The balance of ``main`` against ``subs`` for one month (module docstring), with coverage factor ``k``
    (the rule pack's)."""
    if not (math.isfinite(k) and k > 0):
        raise ValueError(f"coverage factor must be a positive number, got {k}")
    if not subs:
        raise ValueError(f"meter {main.id!r} has no sub-meters: there is nothing to balance")
    meters = [main, *subs]
    ids = tuple(m.id for m in subs)
    no_total = tuple(m.id for m in meters if m.total is None or not math.isfinite(m.total))
    sub_total = None if any(m.total is None for m in subs) else sum(m.total or 0.0 for m in subs)
    if no_total:
        return Balance(main.id, ids, main.total, sub_total, None, None, k, (), "no_total", no_total)
    assert main.total is not None and sub_total is not None
    imbalance = main.total - sub_total
    no_u = tuple(m.id for m in meters if m.u_rel is None)
    if no_u:
        return Balance(main.id, ids, main.total, sub_total, imbalance, None, k, (), "no_uncertainty", no_u)
    for m in meters:
        if m.u_rel is not None and not (math.isfinite(m.u_rel) and m.u_rel >= 0):
            raise ValueError(f"meter {m.id!r}: relative uncertainty must be finite and ≥ 0, got {m.u_rel}")
    u_i = [m.u or 0.0 for m in meters]
    # Signed components cᵢ·uᵢ (c = +1 for the main meter, −1 for a sub-meter), independent meters.
    combined = combine([u_i[0], *(-u for u in u_i[1:])])
    u_c = float(combined.u[0])
    suspects = tuple(
        Suspect(
            m.id,
            correction=-imbalance if m is main else imbalance,
            z=_z(imbalance, u),
            share=float(share),
        )
        for m, u, share in zip(meters, u_i, combined.share, strict=True)
    )
    return Balance(main.id, ids, main.total, sub_total, imbalance, u_c, k, suspects)


def _z(imbalance: float, u: float) -> float:
    if u > 0:
        return abs(imbalance) / u
    return 0.0 if imbalance == 0 else math.inf


# ------------------------------------------------------------------------------------------------------
# The tree
# ------------------------------------------------------------------------------------------------------


def cycle(parent_of: Mapping[str, str | None], start: str) -> list[str] | None:
    """The cycle ``start`` would be on, following main meters upwards (``[start, …, start]``), or None.
    The registry calls it before saving a new main meter, the tree builder on every meter."""
    seen = [start]
    node = parent_of.get(start)
    while node is not None:
        seen.append(node)
        if node == start:
            return seen
        if node in seen[:-1]:
            return None  # a cycle above start, not through it: reported for its own members
        node = parent_of.get(node)
    return None


def networks(parent_of: Mapping[str, str | None], order: Iterable[str] | None = None) -> list[Node]:
    """Every main meter with its direct sub-meters, from each meter's main meter (``None``: top of a
    tree). Listed top-down (a main meter before the networks of its sub-meters), siblings in ``order``
    (default: sorted ids). A cycle is a :class:`NetworkError` naming its meters."""
    for meter in parent_of:
        if (loop := cycle(parent_of, meter)) is not None:
            raise NetworkError("metering network has a cycle: " + " → ".join(loop))
    rank = {m: i for i, m in enumerate(order)} if order is not None else {}

    def key(m: str) -> tuple[int, str]:
        return (rank.get(m, len(rank)), m)

    children: dict[str, list[str]] = {}
    for meter, parent in parent_of.items():
        if parent is not None:
            children.setdefault(parent, []).append(meter)
    roots = sorted((m for m in children if parent_of.get(m) is None), key=key)
    out: list[Node] = []

    def walk(meter: str, level: int) -> None:
        subs = sorted(children.get(meter, []), key=key)
        if subs:
            out.append(Node(meter, tuple(subs), level))
            for s in subs:
                walk(s, level + 1)

    for root in roots:
        walk(root, 0)
    return out


@dataclass(frozen=True, slots=True)
class Node:
    """One balance of the tree: a main meter, its direct sub-meters and its depth (0: top of a tree)."""

    main: str
    subs: tuple[str, ...]
    level: int = 0
