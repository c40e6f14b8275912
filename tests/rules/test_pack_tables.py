"""Contract v1.1 pack tables (formulas, factors, k, tiers, upgrade ladders) and "1+N" packs (``extends``)."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from carbonmeter.cli.main import main
from carbonmeter.quant.formulas import Value, evaluate
from carbonmeter.quant.uncertainty import tier
from carbonmeter.rules.loader import PackError, builtin_pack_files, load_pack, parse_pack

CQ_FILE = next(f for f in builtin_pack_files() if f.parts[-3] == "cq-part1")
EVERY = ("major", "minor", "de_minimis")

#: Contract §6.2's table, written out: formula → parameter → (role, canonical units, default allowed at).
CONTRACT_6_2: dict[str, dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]]] = {
    "fuel_ncv_cc": {
        "consumption": ("activity_data", ("t", "10^4 Nm^3"), ()),
        "ncv": ("emission_factor", ("GJ/t", "GJ/(10^4 Nm^3)"), ()),
        "carbon_content": ("emission_factor", ("tC/GJ",), ()),
        "oxidation_rate": ("emission_factor", ("dimensionless",), EVERY),
    },
    "fuel_mass_cc": {
        "consumption": ("activity_data", ("t",), ()),
        "carbon_content": ("emission_factor", ("tC/t",), ()),
        "oxidation_rate": ("emission_factor", ("dimensionless",), EVERY),
    },
    "carbonate": {
        "consumption": ("activity_data", ("t",), ()),
        "emission_factor": ("emission_factor", ("tCO2/t",), ()),
        "conversion_fraction": ("emission_factor", ("dimensionless",), EVERY),
    },
    "clinker": {
        "clinker_output": ("activity_data", ("t",), ()),
        "cao_content": ("emission_factor", ("dimensionless",), ()),
        "mgo_content": ("emission_factor", ("dimensionless",), ()),
        "cao_non_carbonate": ("emission_factor", ("dimensionless",), EVERY),
        "mgo_non_carbonate": ("emission_factor", ("dimensionless",), EVERY),
    },
    "electricity": {
        "electricity": ("activity_data", ("MWh",), ()),
        "emission_factor": ("emission_factor", ("tCO2/MWh",), EVERY),
    },
    "heat": {
        "heat": ("activity_data", ("GJ",), ()),
        "emission_factor": ("emission_factor", ("tCO2/GJ",), EVERY),
    },
    "cems": {
        "co2_concentration": ("cems", ("%",), ()),
        "flow_velocity": ("cems", ("m/s",), ()),
    },
}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


# --- the tables of cq-part1 -------------------------------------------------------------------------------


def test_cq_formulas_table_is_contract_6_2() -> None:
    formulas = load_pack("cq-part1").formulas
    got = {
        fid: {name: (p.role, p.units, p.default_allowed) for name, p in f.parameters.items()}
        for fid, f in formulas.items()
    }
    assert got == CONTRACT_6_2


def test_every_formula_and_factor_carries_provenance() -> None:
    for ref in ("cq-part1", "cq-part2-cement"):
        pack = load_pack(ref)
        for fid, f in pack.formulas.items():
            assert f.tag in {"seed", "source", "provisional"} and f.note, fid
        assert pack.factors
        for key, factor in pack.factors.items():
            assert factor.tag in {"seed", "source", "provisional", "missing"}, key
            if factor.tag == "missing":
                assert factor.value is None and factor.note, key
            else:  # a known value names where it comes from and when it was published
                assert factor.value is not None and factor.source and factor.publication, key
                assert "standards-digest §" in factor.source, key


def test_grid_factors_are_the_digests() -> None:
    factors = load_pack("cq-part1").factors
    national = factors["grid.national.2023"]
    assert (national.value, national.unit, national.year, national.scope, national.tag) == (
        0.5306,
        "tCO2/MWh",
        2023,
        "national",
        "provisional",  # the digest has the 2023 values from secondary copies only (SEC)
    )
    assert national.u_rel is None  # no source states an uncertainty
    assert "公告2025年第47号" in national.publication
    assert factors["grid.regional.southwest.2023"].value == 0.2472
    assert factors["grid.national.2022"].value == 0.5366
    assert factors["grid.provincial.chongqing.2022"].value == 0.5227
    assert factors["grid.provincial.chongqing.2023"].tag == "missing"  # digest §12.1: MISSING
    # digest §7.1/§8 give no default oxidation rate, NCV or heat factor: kept missing, never invented
    for key in ("oxidation_rate.default", "ncv.default", "heat.purchased.default"):
        assert factors[key].tag == "missing" and factors[key].value is None


def test_coverage_factor_tiers_and_ladders() -> None:
    cq = load_pack("cq-part1")
    assert cq.coverage_factor is not None and cq.coverage_factor.value == 2
    assert cq.tiers() == {4: 1.5, 3: 2.5, 2: 5.0, 1: 7.5}
    assert [tier(u, cq.tiers()) for u in (1.5, 1.6, 2.5, 5.0, 7.5, 7.6)] == [4, 3, 3, 2, 1, 0]
    # the digest gives no upgrade ladder: one per purpose, each missing
    assert set(cq.upgrade_ladder) == set(cq.accuracy_requirements)
    assert {t.tag for t in cq.upgrade_ladder.values()} == {"missing"}


def test_v1_pack_without_the_new_tables_still_loads() -> None:
    jjf = load_pack("jjf2309-2025")
    assert (jjf.formulas, jjf.factors, jjf.coverage_factor, jjf.tiers()) == ({}, {}, None, {})


# --- validation of the new tables --------------------------------------------------------------------------


def edited(old: str, new: str) -> bytes:
    text = CQ_FILE.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1).encode("utf-8")


@pytest.mark.parametrize(
    ("old", "new", "key", "reason"),
    [
        ("      ncv:            {role: emission_f", "      nvc:            {role: emission_f", "", "ncv"),
        ("  fuel_mass_cc:\n", "  fuel_mass_cx:\n", "", "no arithmetic"),
        ("role: activity_data, units: [MWh]", "role: activity, units: [MWh]", "formulas.electricity", ""),
        ("units: [tC/t]", "units: []", "formulas.fuel_mass_cc", ""),
        ("value: 0.5306, unit: tCO2/MWh", "value: null, unit: tCO2/MWh", "factors.grid.national.20", "null"),
        (
            "0.5306, unit: tCO2/MWh, u_rel: null",
            "0.5306, unit: tCO2/MWh, u_rel: -0.1",
            "factors.grid.national.2023.u_rel",
            "",
        ),
        ("coverage_factor: {value: 2,", "coverage_factor: {value: 0,", "", "coverage_factor"),
        ("coverage_factor: {value: 2,", "coverage_factor: {value: .inf,", "", "coverage_factor"),
        ("{4: 1.5, 3: 2.5, 2: 5.0, 1: 7.5}", "{4: 1.5, 3: 2.5, 2: 5.0, 1: .nan}", "", "tier_thresholds"),
        ("value: 0.5306, unit: tCO2/MWh", "value: .nan, unit: tCO2/MWh", "factors.grid.nati", "finite"),
        ("{4: 1.5, 3: 2.5, 2: 5.0, 1: 7.5}", "{4: 2.5, 3: 1.5, 2: 5.0, 1: 7.5}", "", "tier_thresholds"),
        ("  steam: {tag: missing", "  stream: {tag: missing", "", "upgrade_ladder.stream"),
    ],
)
def test_a_bad_table_entry_is_a_located_problem(old: str, new: str, key: str, reason: str) -> None:
    with pytest.raises(PackError) as err:
        parse_pack(edited(old, new), "edited.yaml")
    problem = err.value.problems[0]
    assert problem.file == "edited.yaml"
    assert problem.key.startswith(key)
    assert reason in str(problem)


# --- 1+N: extends ------------------------------------------------------------------------------------------


def write(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


CHILD_HEAD = (
    "schema: carbonmeter.pack/1\nid: child\nversion: '1'\ntitle: {zh: 子包, en: child}\nstatus: draft\n"
)


def test_a_child_overrides_and_extends_key_by_key(tmp_path: Path) -> None:
    child = write(
        tmp_path / "child.yaml",
        CHILD_HEAD
        + "extends: cq-part1@2025-12-draft\n"
        + "coverage_factor: {value: 3, tag: provisional, note: test}\n"
        + "factors:\n"
        + "  grid.national.2023: {value: 0.6, unit: tCO2/MWh, tag: provisional, source: s, publication: p}\n"
        + "  grid.test.2030: {value: 0.1, unit: tCO2/MWh, tag: provisional, source: s, publication: p}\n"
        + "category_thresholds:\n"
        + "  major_t: {value: 9000, tag: provisional, note: test}\n",
    )
    pack = load_pack(str(child))
    parent = load_pack("cq-part1")
    assert (pack.id, pack.extends) == ("child", "cq-part1@2025-12-draft")
    # overridden, added, inherited
    assert pack.factors["grid.national.2023"].value == 0.6
    assert pack.factors["grid.test.2030"].value == 0.1
    assert pack.factors["grid.national.2022"] == parent.factors["grid.national.2022"]
    assert pack.coverage_factor is not None and pack.coverage_factor.value == 3
    assert pack.category_thresholds.major_t.value == 9000
    assert pack.category_thresholds.minor_t == parent.category_thresholds.minor_t  # a sibling key stays
    assert pack.formulas == parent.formulas and pack.equipping_rows == parent.equipping_rows
    assert pack.sources == parent.sources
    # every value's origin
    assert pack.origin("factors.grid.national.2023") == "child@1"
    assert pack.origin("factors.grid.national.2022") == "cq-part1@2025-12-draft"
    assert pack.origin("coverage_factor") == "child@1"
    assert pack.origin("tier_thresholds") == "cq-part1@2025-12-draft"
    assert pack.origin("category_thresholds.major_t") == "child@1"
    assert pack.origin("category_thresholds.minor_t") == "cq-part1@2025-12-draft"
    assert pack.origin("equipping_rows.measurement.organized") == "cq-part1@2025-12-draft"
    assert pack.origin("formulas.clinker.parameters.cao_content") == "cq-part1@2025-12-draft"
    assert pack.sha256 != parent.sha256  # the result records the child's bytes over the parent's


def test_origins_pass_through_a_grandparent(tmp_path: Path) -> None:
    child = write(
        tmp_path / "g.yaml",
        CHILD_HEAD.replace("id: child", "id: grandchild")
        + "extends: cq-part2-cement@2026-provisional\n"
        + "tier_thresholds: {value: {1: 10.0}, tag: provisional, note: test}\n",
    )
    pack = load_pack(str(child))
    assert pack.origin("formulas.clinker_dust") == "cq-part2-cement@2026-provisional"
    assert pack.origin("formulas.fuel_ncv_cc") == "cq-part1@2025-12-draft"
    assert pack.origin("tier_thresholds") == "grandchild@1"
    assert pack.tiers() == {1: 10.0}


def test_a_child_can_name_its_parent_by_a_relative_path(tmp_path: Path) -> None:
    write(tmp_path / "parent.yaml", CQ_FILE.read_text(encoding="utf-8"))
    child = write(tmp_path / "child.yaml", CHILD_HEAD + "extends: parent.yaml\n")
    assert load_pack(str(child)).origin("formulas.heat") == "cq-part1@2025-12-draft"


def test_packs_that_extend_each_other_are_a_located_error(tmp_path: Path) -> None:
    a = write(tmp_path / "a.yaml", CHILD_HEAD.replace("child", "a") + "extends: b.yaml\n")
    write(tmp_path / "b.yaml", CHILD_HEAD.replace("child", "b") + "extends: a.yaml\n")
    with pytest.raises(PackError) as err:
        load_pack(str(a))
    problem = err.value.problems[0]
    assert problem.key == "extends" and "cycle" in problem.reason
    assert problem.file.endswith("b.yaml")  # where the loop closes
    selfish = write(tmp_path / "self.yaml", CHILD_HEAD + "extends: self.yaml\n")
    with pytest.raises(PackError, match="extends: packs extend each other in a cycle"):
        load_pack(str(selfish))


def test_an_unknown_parent_is_a_located_error(tmp_path: Path) -> None:
    child = write(tmp_path / "c.yaml", CHILD_HEAD + "extends: cq-part1@1999\n")
    with pytest.raises(PackError) as err:
        load_pack(str(child))
    problem = err.value.problems[0]
    assert (problem.file, problem.key) == (str(child.resolve()), "extends")
    assert "no built-in pack of that name" in problem.reason
    for bad in ("[cq-part1]", "''", "missing.yaml"):
        write(child, CHILD_HEAD + f"extends: {bad}\n")
        with pytest.raises(PackError, match=re.escape(": extends: ")):
            parse_pack(child.read_bytes(), str(child))


@pytest.mark.parametrize("parent", ["cq-part1@1999", "c.yaml"])
def test_cli_exits_2_on_a_bad_parent_without_a_traceback(tmp_path: Path, parent: str) -> None:
    child = write(tmp_path / "c.yaml", CHILD_HEAD + f"extends: {parent}\n")
    code, out, err = run("rules", "show", str(child))
    assert code == 2 and out == ""
    assert "extends" in err and "Traceback" not in err


# --- the cement pack ---------------------------------------------------------------------------------------


def test_cement_pack_extends_cq_part1() -> None:
    cement, cq = load_pack("cq-part2-cement"), load_pack("cq-part1")
    assert cement.extends == "cq-part1@2025-12-draft"
    own_formulas = {"clinker_dust", "raw_meal_organic_carbon", "alt_fuel_ncv_cc"}
    assert set(cement.formulas) == set(cq.formulas) | own_formulas
    assert cement.formulas["clinker"] == cq.formulas["clinker"]
    dust = cement.formulas["clinker_dust"]
    assert [n for n, p in dust.parameters.items() if p.role == "activity_data"] == [
        "clinker_output",
        "kiln_dust",
        "bypass_dust",
    ]
    assert cement.formula("clinker_dust").activity is not None
    assert cement.formula("clinker_dust").activity.name == "clinker_output"  # type: ignore[union-attr]
    alt = cement.formulas["alt_fuel_ncv_cc"].parameters
    assert alt["fossil_fraction"].default_allowed == ()  # no permission is known: measure it
    assert cement.formulas["raw_meal_organic_carbon"].parameters["organic_carbon_content"].units == (
        "dimensionless",
    )
    # the cement requirements are unknown (GB/T 32151.8-2023's numbers are MISSING): missing, never a pass
    own = [
        k
        for k in cement.accuracy_requirements
        if cement.origin(f"accuracy_requirements.{k}") == "cq-part2-cement@2026-provisional"
    ]
    assert len(own) == 6 and all(cement.accuracy_requirements[k].tag == "missing" for k in own)
    assert {cement.factors[k].tag for k in cement.factors if k.endswith(".default")} == {"missing"}
    # cq-part1's judging tables come through unchanged
    assert cement.equipping_rows == cq.equipping_rows and cement.settings == cq.settings
    assert cement.coverage_factor == cq.coverage_factor and cement.tiers() == cq.tiers()


def test_rules_show_names_each_values_origin() -> None:
    code, out, _ = run("rules", "show", "cq-part2-cement")
    assert code == 0
    assert "extends cq-part1@2025-12-draft" in out
    lines = out.splitlines()
    dust = next(line for line in lines if line.startswith("clinker_dust ") and "kiln_dust" in line)
    assert dust.rstrip().endswith("cq-part2-cement@2026-provisional")
    grid = next(line for line in lines if line.startswith("grid.national.2023 "))
    assert grid.rstrip().endswith("cq-part1@2025-12-draft")
    k = next(line for line in lines if line.startswith("coverage_factor "))
    assert k.rstrip().endswith("cq-part1@2025-12-draft")
    code, plain, _ = run("rules", "show", "cq-part1")
    assert code == 0 and "origin" not in plain.split("## formulas")[1].splitlines()[1]


# --- the pack's specs feed quant.formulas ------------------------------------------------------------------


def test_quant_evaluates_a_stream_with_the_packs_specs() -> None:
    cq = load_pack("cq-part1")
    # 10,000 t × 48.0 GJ/t × 0.0153 tC/GJ × 0.99 × 44/12 = 26,658.72 t CO2 (test data, not defaults)
    e = evaluate(
        cq.formula("fuel_ncv_cc"),
        {
            "consumption": Value(10_000.0, "t", 0.01, "P1"),
            "ncv": Value(48.0, "GJ/t", 0.02, "P2"),
            "carbon_content": Value(0.0153, "tC/GJ", 0.03, "P3"),
            "oxidation_rate": Value(99.0, "%", 0.005, "P4"),
        },
    )
    assert e.emissions_t == pytest.approx(26_658.72, abs=0.005)
    # purchased electricity with the pack's 2023 national grid factor as the default:
    # 100,000 MWh × 0.5306 tCO2/MWh = 53,060 t CO2; the factor states no u_rel, so u is not judged
    grid = cq.factors["grid.national.2023"]
    assert grid.value is not None
    e = evaluate(
        cq.formula("electricity"),
        {
            "electricity": Value(100_000_000.0, "kWh", 0.005, "E1"),
            "emission_factor": Value(grid.value, grid.unit, grid.u_rel, "grid.national.2023"),
        },
    )
    assert e.emissions_t == pytest.approx(53_060.0)
    assert e.u_t is None
    u95 = 2 * 0.005 * 100  # an amount metered at u_rel 0.5 % has U95 = k·u = 1.0 % → tier 4
    assert tier(u95, cq.tiers()) == 4


def test_quant_evaluates_the_cement_formulas_from_the_pack() -> None:
    cement = load_pack("cq-part2-cement")
    # (1,000,000 + 20,000 + 5,000) t × [(65 % − 1 %) × 44/56 + (2 % − 0.1 %) × 44/40]
    # = 1,025,000 × (0.502857 + 0.0209) = 1,025,000 × 0.523757 = 536,851.07 t CO2
    e = evaluate(
        cement.formula("clinker_dust"),
        {
            "clinker_output": Value(1_000_000.0, "t", 0.01),
            "kiln_dust": Value(20_000.0, "t", 0.05),
            "bypass_dust": Value(5_000_000.0, "kg", 0.05),
            "cao_content": Value(65.0, "%", 0.005),
            "mgo_content": Value(2.0, "%", 0.02),
            "cao_non_carbonate": Value(1.0, "%", 0.1),
            "mgo_non_carbonate": Value(0.1, "%", 0.1),
        },
    )
    assert e.emissions_t == pytest.approx(536_851.07, abs=0.005)
    with pytest.raises(ValueError, match="kiln_dust"):
        evaluate(cement.formula("clinker_dust"), {"kiln_dust": Value(1.0, "MWh")})


@pytest.mark.parametrize("path", builtin_pack_files(), ids=lambda p: p.parent.parent.name)
def test_every_formulas_first_units_give_a_mass_of_co2(path: Path) -> None:
    """The engine skips pint for values in their parameter's first unit (the everyday case): that rests on
    this test, which checks the first-unit combination of every formula of every built-in pack with pint."""
    from carbonmeter.quant.formulas import ARITHMETIC, check_dimensions

    pack = load_pack(str(path))
    for formula_id in pack.formulas:
        formula = pack.formula(formula_id)
        if ARITHMETIC[formula_id].evaluate is None:
            continue
        check_dimensions(formula, tuple(sorted((p.name, p.units[0]) for p in formula.parameters)))


def test_a_mixed_unit_combination_is_still_checked() -> None:
    from carbonmeter.quant.formulas import FormulaError, Value, evaluate

    formula = load_pack("cq-part1").formula("fuel_ncv_cc")
    values = {
        "consumption": Value(100.0, "10^4 Nm^3"),
        "ncv": Value(25.0, "GJ/t"),  # per tonne, but the gas is a volume
        "carbon_content": Value(0.015, "tC/GJ"),
        "oxidation_rate": Value(0.99, "1"),
    }
    with pytest.raises(FormulaError):
        evaluate(formula, values)
