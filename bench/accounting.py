"""Benchmarks of the accounting model (issue 10, item 8), each side by side with its obvious alternative.

1. ``assess`` of a 20,000-instrument v1.1 plant (5,000 formula streams with values and certificate U, 60,000
   records) with emissions and uncertainty computed, end to end in a new process, against the same plant read
   as v1 (no formulas, no values: what the accounting adds) — target ≤ 1 s, ≤ 300 MB.
2. The uncertainty of those 5,000 streams: the engine's accounting against GTC (``ureal`` arithmetic, the
   obvious library), in process, the two asserted equal.
3. Monte Carlo (JCGM 101) of a 30-stream plant, 10⁶ draws: the engine's vectorised draws against a plain
   Python loop over draws (timed on 10⁴ draws and scaled) — target ≤ 2 s, ≤ 500 MB.

Run::

    .venv/bin/python bench/accounting.py [--runs 5]

It writes the plants under ``bench/out/`` (git-ignored) and prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
OUT = HERE / "out"
PY = sys.executable
SMALL = ("--streams", "30", "--instruments", "80", "--calibrations", "240")


def _plant(name: str, *args: str) -> Path:
    path = OUT / name
    if not path.exists():
        subprocess.run([PY, str(HERE / "make_v11_plant.py"), str(path), *args], check=True)
    return path


def _spawn(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of ``cmd``, through bench/run.py's lean launcher (a child's
    high-water mark starts from its parent's, so this process, which holds plants, must not fork it)."""
    sys.path.insert(0, str(HERE))
    from run import run_process  # bench/run.py's launcher

    r = run_process(cmd)
    return r.wall_s, r.rss_mb


def _pair(a: list[str], b: list[str], runs: int) -> dict[str, Any]:
    """A and B in turn after one warm-up each; medians and the median of the pairwise ratios."""
    _spawn(a), _spawn(b)
    rows = [(_spawn(a), _spawn(b)) for _ in range(runs)]
    return {
        "a_wall": statistics.median(r[0][0] for r in rows),
        "a_best": min(r[0][0] for r in rows),
        "a_rss": max(r[0][1] for r in rows),
        "b_wall": statistics.median(r[1][0] for r in rows),
        "b_rss": max(r[1][1] for r in rows),
        "ratio": statistics.median(r[0][0] / r[1][0] for r in rows),
    }


def bench_assess(runs: int) -> dict[str, Any]:
    v11, v1 = _plant("plant-v11.json"), _plant("plant-v11-noformula.json", "--no-formulas")
    cli = [PY, "-m", "carbonmeter.cli.main", "assess"]
    return _pair(
        [*cli, str(v11), "--format", "json", "-o", str(OUT / "v11.out.json")],
        [*cli, str(v1), "--format", "json", "-o", str(OUT / "v1.out.json"), "--profile", "cq-part2-cement"],
        runs,
    )


def bench_gtc() -> dict[str, Any]:
    """The 5,000 streams' combined standard uncertainty by GTC against the engine's, in process."""
    from GTC import type_b, ureal

    from carbonmeter.core.facts import establish
    from carbonmeter.io.snapshot_file import read_snapshot
    from carbonmeter.quant.formulas import ARITHMETIC
    from carbonmeter.rules.loader import load_pack

    snap, pack = read_snapshot(_plant("plant-v11.json")), load_pack("cq-part2-cement")
    facts = establish(snap, pack, snap.as_of)
    start = time.perf_counter()
    facts = establish(snap, pack, snap.as_of)
    engine = time.perf_counter() - start - _establish_without_accounting(snap, pack)
    start = time.perf_counter()
    worst = 0.0
    for account in facts.accounting.streams.values():
        ev = account.evaluation
        assert ev is not None and ev.u_t is not None and ev.emissions_t is not None
        # One ureal per instrument-or-input, so inputs of one instrument stay fully correlated.
        by_key: dict[object, Any] = {}
        parts: dict[str, Any] = {}
        for n, b in enumerate(ev.budget):
            key: object = b.instrument or n
            x = by_key.setdefault(key, ureal(1.0, b.u_rel or 0.0))
            parts[b.parameter] = parts.get(b.parameter, 0.0) + b.value * x
        e = ARITHMETIC[ev.formula].evaluate(parts)  # type: ignore[misc]
        worst = max(worst, abs(e.u - ev.u_t) / ev.u_t)
    gtc = time.perf_counter() - start
    assert worst < 1e-9, worst
    del type_b
    return {"engine": engine, "gtc": gtc, "ratio": engine / gtc, "streams": len(facts.accounting.streams)}


def _establish_without_accounting(snap: Any, pack: Any) -> float:
    """Seconds of the v1 facts of the same plant (so the accounting's own share can be told)."""
    import msgspec

    from carbonmeter.core.facts import establish

    bare = msgspec.structs.replace(
        snap,
        source_streams=tuple(
            msgspec.structs.replace(s, formula=None, annual_emissions_t=1.0) for s in snap.source_streams
        ),
    )
    establish(bare, pack, snap.as_of)
    start = time.perf_counter()
    establish(bare, pack, snap.as_of)
    return time.perf_counter() - start


def bench_monte_carlo(draws: int = 1_000_000, loop_draws: int = 10_000) -> dict[str, Any]:
    import numpy as np

    from carbonmeter.core.accounting import monte_carlo
    from carbonmeter.core.facts import establish
    from carbonmeter.io.snapshot_file import read_snapshot
    from carbonmeter.quant.formulas import ARITHMETIC
    from carbonmeter.rules.loader import load_pack

    snap = read_snapshot(
        _plant("plant-v11-30.json", "--streams", "30", "--instruments", "80", "--calibrations", "240")
    )
    facts = establish(snap, load_pack("cq-part2-cement"), snap.as_of)
    acc = facts.accounting
    start = time.perf_counter()
    mc = monte_carlo(snap, acc, draws)
    engine = time.perf_counter() - start
    # The plain loop: one draw at a time, every input drawn by the standard library, the formula in Python.
    import random

    rng = random.Random(1)
    signs = {s.id: (-1 if s.kind.startswith("exported") else 1) for s in snap.source_streams}
    start = time.perf_counter()
    totals = []
    for _ in range(loop_draws):
        total = 0.0
        for sid, account in acc.streams.items():
            ev = account.evaluation
            assert ev is not None and ev.emissions_t is not None
            z: dict[object, float] = {}
            parts: dict[str, float] = {}
            for n, b in enumerate(ev.budget):
                key: object = b.instrument or (sid, n)
                if key not in z:
                    z[key] = rng.gauss(0.0, 1.0)
                parts[b.parameter] = parts.get(b.parameter, 0.0) + b.value * (1 + (b.u_rel or 0.0) * z[key])
            total += signs[sid] * float(ARITHMETIC[ev.formula].evaluate(parts))  # type: ignore[misc]
        totals.append(total)
    loop = (time.perf_counter() - start) * draws / loop_draws
    spread = float(np.std(totals))
    return {
        "draws": draws,
        "engine": engine,
        "loop": loop,
        "ratio": engine / loop,
        "u95_mc": mc.u95_t,
        "u95_gum": acc.total_u95_t,
        "loop_u95": 1.96 * spread,
        "inputs": len(acc.components),
    }


def bench_monte_carlo_process(runs: int) -> dict[str, Any]:
    plant = _plant("plant-v11-30.json", *SMALL)
    cli = [PY, "-m", "carbonmeter.cli.main", "assess", str(plant), "--format", "json"]
    return _pair([*cli, "--monte-carlo", "1000000"], cli, runs)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--runs", type=int, default=5)
    a = p.parse_args()
    OUT.mkdir(exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    r = bench_assess(a.runs)
    print(
        f"| assess 20,000-instrument v1.1 plant | {r['a_wall']:.2f} s (best {r['a_best']:.2f} s), "
        f"{r['a_rss']:.0f} MB | same plant read as v1: {r['b_wall']:.2f} s, {r['b_rss']:.0f} MB | "
        f"{r['ratio']:.2f}× |"
    )
    g = bench_gtc()
    print(
        f"| uncertainty of {g['streams']:,} streams in process | engine {g['engine']:.2f} s | "
        f"GTC ureal arithmetic {g['gtc']:.2f} s (equal to 1e-9) | {g['ratio']:.2f}× |"
    )
    m = bench_monte_carlo()
    print(
        f"| Monte Carlo, 30 streams ({m['inputs']} inputs), {m['draws']:,} draws, in process | "
        f"{m['engine']:.2f} s "
        f"(U95 {m['u95_mc']:,.0f} t; GUM {m['u95_gum']:,.0f} t) | plain Python loop ≈ {m['loop']:.0f} s "
        f"(10⁴ draws scaled; U95 ≈ {m['loop_u95']:,.0f} t) | {m['ratio']:.4f}× |"
    )
    mp = bench_monte_carlo_process(a.runs)
    print(
        f"| assess --monte-carlo 1000000, whole process | {mp['a_wall']:.2f} s, {mp['a_rss']:.0f} MB | "
        f"without Monte Carlo: {mp['b_wall']:.2f} s, {mp['b_rss']:.0f} MB | {mp['ratio']:.2f}× |"
    )
    assert math.isfinite(m["u95_mc"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
