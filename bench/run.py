"""The benchmark: one command, ``.venv/bin/python bench/run.py``.

1. Generates the synthetic plant (default 5,000 streams, 12,000 points, 20,000 instruments, 60,000
   calibration records) and a plant ten times smaller, into ``bench/out/`` (git-ignored).
2. Times a bare ``python -c "import carbonmeter.cli.main"`` (the fixed start-up cost).
3. Times ``carbonmeter assess plant.json --format json -o out.json``, each run a fresh process, and reads
   its peak RSS from ``wait4``'s resource usage of that process alone.
4. Breaks one in-process run down into parse / assess / serialise, for insight.
5. Checks that the naive point × instrument × record scan (``bench/naive.py``) and the engine give the same
   required/equipped counts per Table A.1 row on the small plant, then runs the naive scan on the full plant
   in its own process, with a time budget; past the budget it stops and its time is extrapolated linearly in
   the number of points (the per-point cost is constant: every point scans all instruments and records).
6. Prints a markdown report (machine, date, figures, ratio, verdict against the target) and writes it with
   the raw figures to ``bench/out/``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import msgspec

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_synthetic_plant as gen  # noqa: E402
import naive  # noqa: E402

from carbonmeter.core.assess import assess, run_validators  # noqa: E402
from carbonmeter.core.facts import Facts, establish  # noqa: E402
from carbonmeter.core.integrity import check_integrity  # noqa: E402
from carbonmeter.core.snapshot import Snapshot  # noqa: E402
from carbonmeter.io.snapshot_json import parse_json  # noqa: E402
from carbonmeter.reports.document import to_document  # noqa: E402
from carbonmeter.rules.loader import load_pack, parse_pack  # noqa: E402
from carbonmeter.rules.schema import Pack  # noqa: E402

#: What ``carbonmeter assess --format json`` imports before it reads a byte of the plant.
ENGINE_IMPORTS = (
    "import carbonmeter.cli.main, carbonmeter.core.assess, carbonmeter.io.snapshot_file, "
    "carbonmeter.reports.document, carbonmeter.rules.loader"
)
TARGET_WALL_S = 1.0
TARGET_RSS_MB = 300.0
T = TypeVar("T")


# --- measuring a child process ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessRun:
    """One child process: wall time and its own peak resident set size."""

    wall_s: float
    rss_mb: float


#: A lean launcher, started fresh for every measured run.  On Linux a child's peak RSS (``ru_maxrss``)
#: starts from the memory of the process that spawned it (the high-water mark survives ``exec``), so
#: spawning from this benchmark, which holds a plant in memory, would inflate it.  The launcher is a bare
#: interpreter, smaller than anything it measures; it times spawn-to-reap and reads ``wait4``'s usage of
#: that one child.
LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ,
                     file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
print(json.dumps({"wall_s": wall, "maxrss_kib": usage.ru_maxrss, "exit": os.waitstatus_to_exitcode(status)}))
"""


def run_process(cmd: Sequence[str]) -> ProcessRun:
    """Run ``cmd`` (absolute executable first) under the launcher: wall time and peak RSS (MB = 10⁶ B)."""
    done = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], capture_output=True, text=True, check=True)
    res = json.loads(done.stdout)
    if res["exit"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {res['exit']}")
    return ProcessRun(res["wall_s"], res["maxrss_kib"] * 1024 / 1e6)


@dataclass(frozen=True)
class Series:
    """Repeated runs of one command."""

    runs: tuple[ProcessRun, ...]

    @property
    def best_s(self) -> float:
        return min(r.wall_s for r in self.runs)

    @property
    def median_s(self) -> float:
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.rss_mb for r in self.runs)


def repeat(cmd: Sequence[str], n: int) -> Series:
    return Series(tuple(run_process(cmd) for _ in range(n)))


# --- in-process breakdown ---------------------------------------------------------------------------------


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def breakdown_once(plant: Path, pack_path: Path, out: Path) -> dict[str, float]:
    """Seconds per stage of one assessment, the stages the CLI goes through, in this process (the CLI runs
    with the cyclic garbage collector off, so this does too)."""
    gc.collect()
    gc.disable()
    t: dict[str, float] = {}
    pack, t["load pack (YAML + validation)"] = timed(
        lambda: parse_pack(pack_path.read_bytes(), str(pack_path))
    )
    data, t["read file"] = timed(plant.read_bytes)
    snapshot, t["parse: msgspec decode"] = timed(lambda: msgspec.json.decode(data, type=Snapshot))
    _, t["parse: check_integrity"] = timed(lambda: check_integrity(snapshot))
    facts, t["assess: establish facts"] = timed(lambda: establish(snapshot, pack, snapshot.as_of))
    _, t["assess: validators"] = timed(lambda: run_validators(facts))
    result, t["assess() whole (establish + validators)"] = timed(lambda: assess(snapshot, pack))
    doc, t["serialise: to_document"] = timed(lambda: to_document(result))
    text, t["serialise: msgspec encode"] = timed(lambda: msgspec.json.encode(doc) + b"\n")
    _, t["write file"] = timed(lambda: out.write_bytes(text))
    gc.enable()
    return t


def breakdown(plant: Path, pack_path: Path, out: Path, n: int) -> dict[str, float]:
    """Best of ``n`` for each stage."""
    runs = [breakdown_once(plant, pack_path, out) for _ in range(n)]
    return {stage: min(r[stage] for r in runs) for stage in runs[0]}


# --- engine versus naive ----------------------------------------------------------------------------------


def engine_facts(plant: Path, pack: Pack) -> Facts:
    snapshot = parse_json(plant.read_bytes(), str(plant))
    return establish(snapshot, pack, snapshot.as_of)


def engine_rows(out_json: Path) -> dict[str, list[int]]:
    """row -> [required, equipped] from the CLI's JSON output."""
    doc = json.loads(out_json.read_text(encoding="utf-8"))
    return {r["row"]: [r["required"], r["equipped"]] for r in doc["equipping"]}


def disagreements(naive_points: dict[str, Any], facts: Facts, complete: bool) -> list[str]:
    """Points where the naive verdict differs from the engine's (only the points naive reached)."""
    problems = [
        f"{pid}: naive {row}/{eq}, engine {facts.required.get(pid)}/{facts.equipped.get(pid)}"
        for pid, (row, eq) in naive_points.items()
        if (facts.required.get(pid), facts.equipped.get(pid)) != (row, eq)
    ]
    if complete:
        problems += [
            f"{pid}: required by the engine only" for pid in facts.required if pid not in naive_points
        ]
    return problems


def require(ok: bool, message: str) -> None:
    """An assertion that ``python -O`` does not remove."""
    if not ok:
        raise SystemExit(f"bench: naive and engine disagree: {message}")


def check_small(plant: Path, pack: Pack, rules: naive.Rules) -> dict[str, list[int]]:
    """Naive and engine agree on every row of the small plant (asserted); return the counts."""
    facts = engine_facts(plant, pack)
    doc = json.loads(plant.read_bytes())
    outcome = naive.naive_equipping(doc, rules)
    engine = {r.row: [r.required, r.equipped] for r in facts.rows}
    require(
        outcome.counts(rules.rows) == engine,
        f"small plant: naive {outcome.counts(rules.rows)}, engine {engine}",
    )
    require(not disagreements(dict(outcome.points), facts, True), "small plant: per-point verdicts differ")
    return engine


@dataclass(frozen=True)
class NaiveResult:
    """The naive scan on the full plant: measured, and extrapolated when it was stopped."""

    process: ProcessRun
    load_s: float
    scan_s: float
    seen: int
    total: int
    complete: bool

    @property
    def estimated_wall_s(self) -> float:
        """Measured wall when complete; else the start-up and load as measured plus the scan scaled up."""
        if self.complete:
            return self.process.wall_s
        fixed = self.process.wall_s - self.scan_s
        return fixed + self.scan_s * self.total / max(self.seen, 1)


def run_naive(plant: Path, pack: Pack, out: Path, budget: float, engine: dict[str, list[int]]) -> NaiveResult:
    """Naive scan in its own process; its verdicts are checked against the engine's (asserted)."""
    cmd = [sys.executable, str(HERE / "naive.py"), str(plant), "-o", str(out), "--pack", pack.path]
    proc = run_process([*cmd, "--budget", str(budget)])
    res = json.loads(out.read_text(encoding="utf-8"))
    problems = disagreements(res["points"], engine_facts(plant, pack), res["complete"])
    require(not problems, f"full plant: naive and engine differ at {problems[:10]}")
    if res["complete"]:
        require(res["rows"] == engine, f"full plant: naive {res['rows']}, engine {engine}")
    return NaiveResult(
        proc,
        res["load_s"],
        res["scan_s"],
        res["measured_points_seen"],
        res["measured_points_total"],
        res["complete"],
    )


# --- machine and report -----------------------------------------------------------------------------------


def _sh(cmd: str) -> str:
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "?"


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    model = _sh("lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1")
    return {
        "date (UTC)": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "CPU": f"{model} × {os.cpu_count()} (nproc {_sh('nproc')})",
        "RAM": _sh("free -h | awk '/^Mem:/ {print $2}'"),
        "OS": f"{_sh('. /etc/os-release && echo $PRETTY_NAME')}, Linux {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "**NOT met**"


def report(fig: dict[str, Any]) -> str:
    """The markdown report of one run."""
    m, c, s, e, nv = fig["machine"], fig["counts"], fig["startup"], fig["engine"], fig["naive"]
    im = fig["imports"]
    naive_wall = f"{nv['wall_s']:.1f} s"
    if not nv["complete"]:
        naive_wall = f"≈ {nv['wall_s']:.1f} s extrapolated ({nv['measured_wall_s']:.1f} s measured)"
    ratio_cli = nv["wall_s"] / e["median_s"]
    ratio_core = nv["wall_s"] / fig["engine_core_s"]
    lines = [
        "### Machine",
        "",
        *(f"- {k}: {v}" for k, v in m.items()),
        "",
        f"### Plant: {c['streams']:,} streams, {c['points']:,} points, {c['instruments']:,} instruments, "
        f"{c['calibrations']:,} calibration records ({fig['plant_mb']:.1f} MB of JSON)",
        "",
        "| measurement | runs | best wall | median wall | peak RSS |",
        "|---|---:|---:|---:|---:|",
        f'| start-up: `python -c "import carbonmeter.cli.main"` | {s["runs"]} | {s["best_s"]:.3f} s '
        f"| {s['median_s']:.3f} s | {s['peak_mb']:.0f} MB |",
        f"| start-up + every module `assess` imports (no plant read) | {im['runs']} "
        f"| {im['best_s']:.3f} s | {im['median_s']:.3f} s | {im['peak_mb']:.0f} MB |",
        f"| **engine**: `carbonmeter assess plant.json --format json -o out.json` | {e['runs']} "
        f"| {e['best_s']:.3f} s | **{e['median_s']:.3f} s** | **{e['peak_mb']:.0f} MB** |",
        f"| naive scan: `python bench/naive.py plant.json` ({nv['how']}) | 1 | – "
        f"| {naive_wall} | {nv['peak_mb']:.0f} MB |",
        "",
        f"- Ratio naive / engine (end-to-end CLI, median): **{ratio_cli:,.0f}×**",
        f"- Ratio naive / engine in-process parse + assess ({fig['engine_core_s']:.3f} s): "
        f"{ratio_core:,.0f}×",
        f"- Naive and engine agree on required/equipped per Table A.1 row: small plant "
        f"({fig['small_counts']}) asserted equal; full plant {nv['agreement']}.",
        f"- Target ≤ {TARGET_WALL_S:g} s wall (median): {verdict(e['median_s'] <= TARGET_WALL_S)}; "
        f"≤ {TARGET_RSS_MB:g} MB peak RSS: {verdict(e['peak_mb'] <= TARGET_RSS_MB)}.",
        "",
        "### In-process breakdown (best of 3, seconds)",
        "",
        "| stage | s |",
        "|---|---:|",
        *(f"| {k} | {v:.3f} |" for k, v in fig["breakdown"].items()),
        "",
    ]
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------------------------------


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="carbonmeter benchmark (see docs/benchmarks.md)")
    p.add_argument("--out", type=Path, default=HERE / "out", help="work directory (default bench/out)")
    p.add_argument("--runs", type=int, default=5, help="runs of the CLI and of the start-up (default 5)")
    p.add_argument("--naive-budget", type=float, default=150.0, help="seconds before the naive scan stops")
    p.add_argument("--seed", type=int, default=20260115)
    p.add_argument("--streams", type=int, default=gen.Counts.streams)
    p.add_argument("--points", type=int, default=gen.Counts.points)
    p.add_argument("--instruments", type=int, default=gen.Counts.instruments)
    p.add_argument("--calibrations", type=int, default=gen.Counts.calibrations)
    return p.parse_args(argv)


def _scaled(c: gen.Counts, divisor: int) -> gen.Counts:
    return gen.Counts(*(max(1, n // divisor) for n in (c.streams, c.points, c.instruments, c.calibrations)))


def _say(text: str) -> None:
    print(f"… {text}", file=sys.stderr, flush=True)


def measure(a: argparse.Namespace) -> dict[str, Any]:
    """Every figure of the report."""
    counts = gen.Counts(a.streams, a.points, a.instruments, a.calibrations)
    plant = gen.write_plant(a.out / "plant.json", counts, a.seed)
    small = gen.write_plant(a.out / "plant-small.json", _scaled(counts, 10), a.seed)
    pack = load_pack("cq-part1")
    rules = naive.load_rules(Path(pack.path))
    cli = str(Path(sys.executable).with_name("carbonmeter"))
    out = a.out / "out.json"

    _say("start-up")
    startup = repeat([sys.executable, "-c", "import carbonmeter.cli.main"], a.runs)
    imports = repeat([sys.executable, "-c", ENGINE_IMPORTS], a.runs)
    _say("engine CLI")
    engine = repeat([cli, "assess", str(plant), "--format", "json", "-o", str(out)], a.runs)
    _say("in-process breakdown")
    stages = breakdown(plant, Path(pack.path), a.out / "out-inprocess.json", 3)
    core = stages["parse: msgspec decode"] + stages["parse: check_integrity"]
    core += stages["assess() whole (establish + validators)"]
    _say("naive vs engine on the small plant")
    small_counts = check_small(small, pack, rules)
    _say(f"naive scan on the full plant (budget {a.naive_budget:g} s)")
    nv = run_naive(plant, pack, a.out / "naive.json", a.naive_budget, engine_rows(out))
    if nv.complete:
        how = f"measured in full: {nv.total:,} measured points"
        agreement = "asserted equal (every row, every point)"
    else:
        how = (
            f"measured on the first {nv.seen:,} of {nv.total:,} measured points in {nv.scan_s:.1f} s, "
            f"scan extrapolated linearly in points"
        )
        agreement = f"asserted equal on the {nv.seen:,} points scanned"
    return {
        "machine": machine(),
        "counts": counts.__dict__,
        "plant_mb": plant.stat().st_size / 1e6,
        "startup": _series(startup),
        "imports": _series(imports),
        "engine": _series(engine),
        "breakdown": stages,
        "engine_core_s": core,
        "small_counts": f"{sum(r[0] for r in small_counts.values()):,} required points",
        "naive": {
            "wall_s": nv.estimated_wall_s,
            "measured_wall_s": nv.process.wall_s,
            "peak_mb": nv.process.rss_mb,
            "complete": nv.complete,
            "how": how,
            "agreement": agreement,
        },
    }


def _series(s: Series) -> dict[str, Any]:
    return {
        "runs": len(s.runs),
        "best_s": s.best_s,
        "median_s": s.median_s,
        "peak_mb": s.peak_mb,
        "walls_s": [r.wall_s for r in s.runs],
        "rss_mb": [r.rss_mb for r in s.runs],
    }


def main(argv: Sequence[str] | None = None) -> int:
    a = _args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    figures = measure(a)
    text = report(figures)
    (a.out / "results.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    (a.out / "results.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
