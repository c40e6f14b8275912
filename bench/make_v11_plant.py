"""A synthetic contract v1.1 plant for the benchmarks: formula streams with values and certificate U.

Deterministic (a fixed seed). Defaults: 5,000 formula streams (fuel by NCV × carbon content, clinker,
purchased and exported electricity in a fixed mix), their points with annual values (the laboratory's u_rel
on most factors, a default oxidation rate where the formula allows one), 20,000 instruments (one per
measured point plus backups) and 60,000 verification/calibration records, a quarter stating U, k = 2::

    .venv/bin/python bench/make_v11_plant.py bench/out/plant-v11.json [--streams N] [--instruments N] …

``--no-formulas`` writes the same plant without its formulas and values (the v1 reading of it), for the
side-by-side figure of the cost of the accounting model.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

Json = dict[str, Any]
AS_OF = date(2026, 1, 15)


def _fuel(rng: random.Random, sid: str) -> tuple[str, list[Json]]:
    return "fuel_ncv_cc", [
        {
            "id": f"{sid}.1",
            "parameter": "consumption",
            "role": "activity_data",
            "purpose": "weighing_dynamic",
            "value": rng.uniform(500, 80_000),
            "unit": "t",
        },
        {
            "id": f"{sid}.2",
            "parameter": "ncv",
            "role": "emission_factor",
            "purpose": "calorimeter",
            "value": rng.uniform(18, 28),
            "unit": "GJ/t",
            "u_rel": 0.008,
        },
        {
            "id": f"{sid}.3",
            "parameter": "carbon_content",
            "role": "emission_factor",
            "purpose": "carbon_analyser",
            "value": rng.uniform(0.024, 0.028),
            "unit": "tC/GJ",
            "u_rel": 0.015,
        },
        {
            "id": f"{sid}.4",
            "parameter": "oxidation_rate",
            "role": "emission_factor",
            "determination": "default",
            "value": 0.98,
            "unit": "1",
            "u_rel": 0.01,
        },
    ]


def _clinker(rng: random.Random, sid: str) -> tuple[str, list[Json]]:
    return "clinker", [
        {
            "id": f"{sid}.1",
            "parameter": "clinker_output",
            "role": "activity_data",
            "purpose": "weighing_dynamic",
            "value": rng.uniform(1e5, 1.5e6),
            "unit": "t",
        },
        {
            "id": f"{sid}.2",
            "parameter": "cao_content",
            "role": "emission_factor",
            "purpose": "carbon_analyser",
            "value": rng.uniform(0.62, 0.66),
            "unit": "1",
            "u_rel": 0.003,
        },
        {
            "id": f"{sid}.3",
            "parameter": "mgo_content",
            "role": "emission_factor",
            "purpose": "carbon_analyser",
            "value": rng.uniform(0.01, 0.03),
            "unit": "1",
            "u_rel": 0.005,
        },
        {
            "id": f"{sid}.4",
            "parameter": "cao_non_carbonate",
            "role": "emission_factor",
            "determination": "default",
            "value": 0.008,
            "unit": "1",
            "u_rel": 0.1,
        },
        {
            "id": f"{sid}.5",
            "parameter": "mgo_non_carbonate",
            "role": "emission_factor",
            "determination": "default",
            "value": 0.004,
            "unit": "1",
            "u_rel": 0.1,
        },
    ]


def _electricity(rng: random.Random, sid: str) -> tuple[str, list[Json]]:
    return "electricity", [
        {
            "id": f"{sid}.1",
            "parameter": "electricity",
            "role": "activity_data",
            "purpose": "electricity_class_II",
            "value": rng.uniform(1_000, 200_000),
            "unit": "MWh",
        },
        {
            "id": f"{sid}.2",
            "parameter": "emission_factor",
            "role": "emission_factor",
            "determination": "default",
            "factor": "grid.national.2023",
            "u_rel": 0.02,
        },
    ]


KINDS = (
    ("fuel_combustion", _fuel),
    ("fuel_combustion", _fuel),
    ("process", _clinker),
    ("purchased_electricity", _electricity),
    ("exported_electricity", _electricity),
)
CLASSES = {
    "weighing_dynamic": "0.5",
    "calorimeter": "0.5",
    "carbon_analyser": "1.0",
    "electricity_class_II": "0.5S",
}


def _records(rng: random.Random, iid: str, n: int) -> list[Json]:
    out = []
    day = AS_OF - timedelta(days=rng.randint(30, 300))
    for k in range(n):
        when = day - timedelta(days=365 * k)
        rec: Json = {
            "instrument": iid,
            "kind": "calibration" if k % 4 == 0 else "verification",
            "date": when.isoformat(),
            "valid_until": (when + timedelta(days=364)).isoformat(),
            "result": "pass",
            "certificate_no": f"C-{iid}-{k}",
        }
        if rec["kind"] == "calibration":
            rec |= {"expanded_uncertainty_percent": round(rng.uniform(0.1, 0.5), 3), "coverage_factor": 2}
        out.append(rec)
    return out


def make_plant(streams: int, instruments: int, calibrations: int, seed: int, formulas: bool = True) -> Json:
    rng = random.Random(seed)
    doc_streams, points, insts, records = [], [], [], []
    measured: list[Json] = []
    for n in range(streams):
        kind, make = KINDS[n % len(KINDS)]
        sid = f"S{n:05d}"
        formula, pts = make(rng, sid)
        stream: Json = {"id": sid, "kind": kind, "method": "calculation", "annual_emissions_t": 0.0}
        for p in pts:
            p["stream"] = sid
        if formulas:
            stream["formula"] = formula
            del stream["annual_emissions_t"]
        else:
            stream["annual_emissions_t"] = round(rng.uniform(100, 200_000), 1)
            for p in pts:
                for key in ("value", "unit", "u_rel", "factor"):
                    p.pop(key, None)
        doc_streams.append(stream)
        points += pts
        measured += [p for p in pts if p.get("determination", "measured") == "measured"]
    for n in range(instruments):
        p = measured[n % len(measured)]
        iid = f"I{n:05d}"
        insts.append(
            {
                "id": iid,
                "name": f"器具 {iid}",
                "type": "meter",
                "model": "M-1",
                "serial_no": f"SN{n:06d}",
                "asset_no": f"A{n:06d}",
                "manufacturer": "厂家",
                "measuring_range": "0–100",
                "location": "现场",
                "accuracy_class": CLASSES[p["purpose"]],
                "points": [p["id"]],
                "status": "in_use" if n < len(measured) else rng.choice(["in_use", "standby"]),
            }
        )
    per = max(1, calibrations // instruments)
    for inst in insts:
        records += _records(rng, inst["id"], per)
    return {
        "schema": "carbonmeter.snapshot/1",
        "organization": {"name": "基准测试水泥厂", "industry": "cement"},
        "reporting_year": 2025,
        "as_of": AS_OF.isoformat(),
        "source_streams": doc_streams,
        "measuring_points": points,
        "instruments": insts,
        "calibrations": records,
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("output", type=Path)
    p.add_argument("--streams", type=int, default=5_000)
    p.add_argument("--instruments", type=int, default=20_000)
    p.add_argument("--calibrations", type=int, default=60_000)
    p.add_argument("--seed", type=int, default=20261208)
    p.add_argument("--no-formulas", action="store_true")
    a = p.parse_args(argv)
    doc = make_plant(a.streams, a.instruments, a.calibrations, a.seed, formulas=not a.no_formulas)
    a.output.parent.mkdir(parents=True, exist_ok=True)
    a.output.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    counts = {k: len(doc[k]) for k in ("source_streams", "measuring_points", "instruments", "calibrations")}
    print(f"wrote {a.output}: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
