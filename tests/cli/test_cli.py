"""The command line as a user runs it: a real process, real files, exit codes and streams (contract §1)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

MINI = Path(__file__).parents[1] / "data" / "mini.json"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carbonmeter.cli.main", *args], capture_output=True, text=True, check=False
    )


def test_json_output_is_exactly_the_document() -> None:
    r = run("assess", str(MINI), "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema"] == "carbonmeter.assessment/1"
    assert doc["profile"]["id"] == "cq-part2-cement"  # mini is a cement plant: its industry part (1+N)
    assert doc["conforms"] is False
    assert r.stderr == ""


def test_the_default_pack_follows_the_industry(tmp_path: Path) -> None:
    doc = json.loads(MINI.read_text(encoding="utf-8"))
    doc["organization"]["industry"] = "chemical"  # no industry part yet: the general part
    other = tmp_path / "chemical.json"
    other.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert json.loads(run("assess", str(other), "--format", "json").stdout)["profile"]["id"] == "cq-part1"
    explicit = run("assess", str(MINI), "--format", "json", "--profile", "cq-part1").stdout
    assert json.loads(explicit)["profile"]["id"] == "cq-part1"


def test_monte_carlo_and_located_pack_errors(tmp_path: Path) -> None:
    demo = Path(__file__).parents[2] / "examples" / "demo-cement-plant.json"
    r = run("assess", str(demo), "--format", "json", "--monte-carlo", "20000")
    assert r.returncode == 0, r.stderr
    unc = json.loads(r.stdout)["uncertainty"]
    assert unc["monte_carlo"]["draws"] == 20000
    assert unc["monte_carlo"]["u95_t"] == pytest.approx(unc["total_u95_t"], rel=0.05)
    assert run("assess", str(demo), "--monte-carlo", "1").returncode == 2
    # The demo's cement formulas are not in the general part: exit 2, each stream located, nothing on stdout.
    r = run("assess", str(demo), "--format", "json", "--profile", "cq-part1")
    assert r.returncode == 2 and r.stdout == ""
    assert "/source_streams/7/formula" in r.stderr and "raw_meal_organic_carbon" in r.stderr


def test_as_of_and_profile_change_the_verdict() -> None:
    early = json.loads(run("assess", str(MINI), "--format", "json", "--as-of", "2025-12-01").stdout)
    assert early["as_of"] == "2025-12-01"
    by_id = {i["id"]: i for i in early["instruments"]}
    assert by_id["I3"]["traceable"] is True  # expires 2026-01-09, after this date
    jjf = json.loads(run("assess", str(MINI), "--format", "json", "--profile", "jjf2309-2025").stdout)
    assert jjf["profile"]["id"] == "jjf2309-2025"


def test_invalid_input_exits_2_with_nothing_on_stdout(tmp_path: Path) -> None:
    bad = json.loads(MINI.read_text(encoding="utf-8"))
    bad["instruments"][0]["status"] = "broken"
    bad["measuring_points"][1]["stream"] = "nowhere"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    r = run("assess", str(path), "--format", "json")
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2  # schema and integrity problems reported in one pass
    assert "/instruments/0/status" in lines[0] and "broken" in lines[0]
    assert "/measuring_points/1/stream" in lines[1] and "nowhere" in lines[1]


def test_missing_file_and_bad_profile_exit_2() -> None:
    assert run("assess", "no-such.json").returncode == 2
    r = run("assess", str(MINI), "--profile", "nope")
    assert r.returncode == 2 and "no built-in pack" in r.stderr and r.stdout == ""


def test_text_output_is_chinese_summary() -> None:
    r = run("assess", str(MINI), "--format", "text")
    assert r.returncode == 0
    assert "结论：不符合" in r.stdout
    assert "6.3.8 铅封、封印保护" in r.stdout
    # Contract §6.4.4: I4's failed recalibration explains P4's gap; grouped with the clause on each line.
    group = r.stdout.split("根源：器具 I4（关口电能表）溯源失效（3 项）\n", 1)[1].splitlines()[:3]
    assert [line.split()[1:3] for line in group] == [
        ["EQP-01-A", "5.2.1"],
        ["TRC-01-C", "6.3.7"],
        ["TRC-02", "6.3.7"],
    ]
    assert "四、不予判定" in r.stdout and "计量点 P2（ncv）" in r.stdout.split("四、不予判定", 1)[1]


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    r = run("assess", str(MINI), "--format", "json", "-o", str(out))
    assert r.returncode == 0 and r.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["schema"] == "carbonmeter.assessment/1"


def test_rules_list_and_show() -> None:
    r = run("rules", "list")
    assert r.returncode == 0 and "cq-part1" in r.stdout and "jjf2309-2025" in r.stdout
    show = run("rules", "show", "cq-part1")
    assert show.returncode == 0
    assert "refined_oil_trade" in show.stdout and "seed" in show.stdout and "not loaded" in show.stdout
