"""The naive equipping-rate check: what a spreadsheet-minded developer writes first.

It answers the same question as the engine's Table A.1 result (required and equipped points per row,
contract §5.1–§5.6) straight from ``json.load``'s dicts, with no index of any kind:

* for each measuring point, look its stream up by scanning the streams (a VLOOKUP);
* for each required point, scan every instrument for one linked to the point and in use;
* for each such candidate, scan every calibration record to decide whether it is traceable.

That is point × instrument + candidate × record work: quadratic in the plant's size.  Accuracy does not
enter: the pack's ``settings.accuracy_affects_equipping`` is false (contract §5.7), which :func:`load_rules`
checks.

``python bench/naive.py PLANT.json [-o OUT.json] [--budget SECONDS] [--pack PACK.yaml]`` prints (or writes)
a JSON document with the per-row counts and the timing.  With ``--budget`` the scan stops after that many
seconds and reports how many points it got through, so that the caller can extrapolate.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Json = dict[str, Any]
INDIRECT_KINDS = ("purchased_electricity", "purchased_heat", "exported_electricity", "exported_heat")


@dataclass(frozen=True)
class Rules:
    """The numbers of the rule pack the naive check needs, read from its YAML as plain values."""

    major_t: float
    major_share: float
    minor_t: float
    minor_share: float
    unorganized_t: float
    unorganized_share: float
    rows: tuple[str, ...]


def load_rules(pack_path: Path) -> Rules:
    """Read thresholds and Table A.1 rows from a pack file (plain ``yaml.safe_load``)."""
    pack = yaml.safe_load(pack_path.read_text(encoding="utf-8"))
    if pack["settings"]["accuracy_affects_equipping"]["value"]:
        raise SystemExit("naive.py: this pack gates equipping on accuracy; the naive check does not")
    cat, unorg = pack["category_thresholds"], pack["unorganized_threshold"]
    return Rules(
        major_t=cat["major_t"]["value"],
        major_share=cat["major_share"]["value"],
        minor_t=cat["minor_t"]["value"],
        minor_share=cat["minor_share"]["value"],
        unorganized_t=unorg["emissions_t"]["value"],
        unorganized_share=unorg["share"]["value"],
        rows=tuple(r["row"] for r in pack["equipping_rows"]),
    )


def default_pack_path() -> Path:
    """The built-in cq-part1 pack file."""
    from carbonmeter.rules.loader import PACKS_DIR

    return sorted((PACKS_DIR / "cq-part1").glob("*/pack.yaml"))[-1]


def grade(x: float, major: float, minor: float) -> int:
    """0 major, 1 minor, 2 de minimis."""
    return 0 if x >= major else 1 if x >= minor else 2


def row_of(point: Json, stream: Json, total: float, rules: Rules) -> str | None:
    """The Table A.1 row of a measured point, or None when its unorganized stream is exempt."""
    emissions = stream["annual_emissions_t"]
    share = emissions / total if total > 0 else 0.0
    mode: str = stream.get("emission_mode", "organized")
    if mode == "unorganized" and emissions < rules.unorganized_t and share < rules.unorganized_share:
        return None
    if stream["kind"] in INDIRECT_KINDS:
        return "indirect.electricity_heat"
    if stream["method"] == "measurement":
        return "measurement." + mode
    level = min(
        grade(emissions, rules.major_t, rules.minor_t),
        grade(share, rules.major_share, rules.minor_share),
    )
    role: str = point["role"]
    return "calculation." + ("major", "minor", "de_minimis")[level] + "." + role


def find_stream(streams: list[Json], stream_id: str) -> Json:
    """VLOOKUP: the first stream with this id."""
    for s in streams:
        if s["id"] == stream_id:
            return s
    raise KeyError(stream_id)


def is_traceable(instrument_id: str, calibrations: list[Json], as_of: str) -> bool:
    """Scan the whole calibration log for this instrument's records, then apply contract §5.4.

    ISO dates compare correctly as strings.  Traceable when some pass covers ``as_of`` and no fail dated
    after that pass and on or before ``as_of`` exists.
    """
    passes: list[Json] = []
    fails: list[Json] = []
    for rec in calibrations:
        if rec["instrument"] != instrument_id:
            continue
        if rec["result"] == "pass":
            passes.append(rec)
        else:
            fails.append(rec)
    for p in passes:
        if p["date"] <= as_of <= p.get("valid_until", ""):
            voided = False
            for f in fails:
                if p["date"] < f["date"] <= as_of:
                    voided = True
            if not voided:
                return True
    return False


def is_equipped(point_id: str, instruments: list[Json], calibrations: list[Json], as_of: str) -> bool:
    """Scan every instrument for one linked to the point, in use and traceable."""
    for inst in instruments:
        linked = point_id in inst.get("points", []) and inst.get("status", "in_use") == "in_use"
        if linked and is_traceable(inst["id"], calibrations, as_of):
            return True
    return False


@dataclass
class Outcome:
    """Per-point verdicts of the naive scan and how far it got."""

    #: required point id -> (row, equipped)
    points: dict[str, tuple[str, bool]]
    measured_seen: int
    measured_total: int
    complete: bool

    def counts(self, rows: Sequence[str]) -> dict[str, list[int]]:
        """row -> [required, equipped], every row of the pack listed."""
        out = {r: [0, 0] for r in rows}
        for row, equipped in self.points.values():
            out[row][0] += 1
            out[row][1] += int(equipped)
        return out


def naive_equipping(doc: Json, rules: Rules, deadline: float | None = None) -> Outcome:
    """Required and equipped points, the naive way; stop at ``deadline`` (``time.perf_counter``) if given."""
    streams, instruments, calibrations = doc["source_streams"], doc["instruments"], doc["calibrations"]
    as_of = doc["as_of"]
    total = sum(s["annual_emissions_t"] for s in streams)
    measured = [p for p in doc["measuring_points"] if p.get("determination", "measured") == "measured"]
    verdicts: dict[str, tuple[str, bool]] = {}
    seen = 0
    for point in measured:
        if deadline is not None and time.perf_counter() > deadline:
            break
        seen += 1
        row = row_of(point, find_stream(streams, point["stream"]), total, rules)
        if row is not None:
            verdicts[point["id"]] = (row, is_equipped(point["id"], instruments, calibrations, as_of))
    return Outcome(verdicts, seen, len(measured), seen == len(measured))


def run(plant: Path, rules: Rules, budget: float | None) -> Json:
    """Read, scan and report, timing the whole (JSON in → counts out) and the scan alone."""
    start = time.perf_counter()
    doc = json.loads(plant.read_bytes())
    loaded = time.perf_counter()
    outcome = naive_equipping(doc, rules, None if budget is None else loaded + budget)
    end = time.perf_counter()
    return {
        "complete": outcome.complete,
        "measured_points_seen": outcome.measured_seen,
        "measured_points_total": outcome.measured_total,
        "load_s": loaded - start,
        "scan_s": end - loaded,
        "rows": outcome.counts(rules.rows),
        "points": {pid: [row, eq] for pid, (row, eq) in outcome.points.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="naive point × instrument × record equipping check")
    p.add_argument("plant", type=Path)
    p.add_argument("-o", "--output", type=Path)
    p.add_argument("--budget", type=float, help="stop scanning after this many seconds")
    p.add_argument("--pack", type=Path, help="pack.yaml (default: built-in cq-part1)")
    a = p.parse_args(argv)
    result = run(a.plant, load_rules(a.pack or default_pack_path()), a.budget)
    text = json.dumps(result, ensure_ascii=False)
    if a.output:
        a.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
