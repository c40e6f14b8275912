"""Both built-in packs load, and their values are pinned here so any change to a pack is reviewed."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonmeter.rules.loader import PackError, builtin_pack_files, load_pack, parse_pack
from carbonmeter.rules.schema import ALL_ROWS, Pack

CQ_FILE = next(f for f in builtin_pack_files() if f.parts[-3] == "cq-part1")


def rates(pack: Pack) -> dict[str, tuple[float | None, float | None]]:
    return {
        r.row: (r.required_rate.value, r.required_rate_non_key.value if r.required_rate_non_key else None)
        for r in pack.equipping_rows
    }


@pytest.mark.parametrize("ref", ["cq-part1", "jjf2309-2025", "cq-part1@2025-12-draft"])
def test_builtin_packs_load(ref: str) -> None:
    pack = load_pack(ref)
    assert {r.row for r in pack.equipping_rows} == set(ALL_ROWS)
    assert len(pack.sha256) == 64


def test_cq_table_a1_and_thresholds_are_seed_values() -> None:
    cq = load_pack("cq-part1")
    t = cq.category_thresholds
    assert (t.major_t.value, t.major_share.value, t.minor_t.value, t.minor_share.value) == (
        5000,
        0.10,
        1000,
        0.01,
    )
    assert (cq.unorganized_threshold.emissions_t.value, cq.unorganized_threshold.share.value) == (1000, 0.01)
    expected = {row: (1.0, None) for row in ALL_ROWS}
    expected["calculation.de_minimis.activity_data"] = (0.6, None)
    expected["calculation.de_minimis.emission_factor"] = (1.0, 0.6)
    assert rates(cq) == expected
    assert all(r.required_rate.tag == "seed" for r in cq.equipping_rows)
    assert {t.major_t.tag, t.minor_share.tag} == {"seed"}


@pytest.mark.parametrize("ref", ["cq-part1", "jjf2309-2025"])
def test_data_retention_and_cems_hour_validity_are_pack_values(ref: str) -> None:
    settings = load_pack(ref).settings
    assert (settings.data_retention_years.value, settings.cems_hour_valid_fraction.value) == (5, 0.75)
    assert settings.cems_hour_valid_fraction.tag == "provisional"  # HJ 75-2017, recalled
    expected = "seed" if ref == "cq-part1" else "provisional"  # CQ 6.4.6; JJF 2309 silent
    assert settings.data_retention_years.tag == expected


def test_retention_and_cems_fraction_are_range_checked(tmp_path: Path) -> None:
    text = CQ_FILE.read_text(encoding="utf-8").replace(
        "data_retention_years: {value: 5,", "data_retention_years: {value: 0,", 1
    )
    path = tmp_path / "short.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PackError, match="data_retention_years"):
        load_pack(str(path))
    text = CQ_FILE.read_text(encoding="utf-8").replace(
        "cems_hour_valid_fraction: {value: 0.75,", "cems_hour_valid_fraction: {value: 1.5,", 1
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PackError, match="cems_hour_valid_fraction"):
        load_pack(str(path))


@pytest.mark.parametrize("ref", ["cq-part1", "jjf2309-2025"])
def test_counter_wrap_and_low_availability_are_pack_values(ref: str) -> None:
    """Formerly literals in code (readings/counters.py, web/readings/xlsx.py): pinned here with their tag."""
    settings = load_pack(ref).settings
    assert settings.counter_max_wrap_fraction.value == 0.5
    assert settings.readings_low_availability.value == 0.9
    assert {settings.counter_max_wrap_fraction.tag, settings.readings_low_availability.tag} == {"provisional"}


@pytest.mark.parametrize("name", ["counter_max_wrap_fraction", "readings_low_availability"])
@pytest.mark.parametrize("bad", ["0", "1.5", "-0.1"])
def test_counter_wrap_and_low_availability_are_range_checked(tmp_path: Path, name: str, bad: str) -> None:
    text = CQ_FILE.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith(f"  {name}: {{value: "))
    value = line.split("value: ", 1)[1].split(",", 1)[0]
    path = tmp_path / "bad.yaml"
    path.write_text(
        text.replace(f"{name}: {{value: {value},", f"{name}: {{value: {bad},", 1), encoding="utf-8"
    )
    with pytest.raises(PackError, match=name):
        load_pack(str(path))


def test_jjf_differs_only_in_the_two_percent_thresholds() -> None:
    cq, jjf = load_pack("cq-part1"), load_pack("jjf2309-2025")
    assert jjf.category_thresholds.minor_share.value == 0.02
    assert jjf.unorganized_threshold.share.value == 0.02
    assert rates(jjf) == rates(cq)
    assert jjf.severity["MGT-04"].value == "observation"


ACCURACY = {
    "weighing_static": ("III", None, "provisional"),
    "weighing_dynamic": ("0.5", None, "provisional"),
    "electricity_class_I": ("0.2S", None, "provisional"),
    "electricity_class_II": ("0.5S", None, "provisional"),
    "electricity_class_III": ("1.0", None, "provisional"),
    "electricity_class_IV": ("2.0", None, "provisional"),
    "electricity_class_V": ("2.0", None, "provisional"),
    "electricity_dc": ("2.0", None, "provisional"),
    "refined_oil": ("0.5", None, "provisional"),
    "refined_oil_trade": ("0.3", None, "seed"),
    "heavy_oil": ("1.0", None, "provisional"),
    "coal_gas": ("2.0", None, "provisional"),
    "natural_gas": ("2.0", None, "provisional"),
    "steam": ("2.5", None, "provisional"),
    "temperature_energy": ("2.0", None, "provisional"),
    "temperature_mass_calc": ("1.0", None, "provisional"),
    "pressure_energy": ("2.0", None, "provisional"),
    "pressure_mass_calc": ("1.0", None, "provisional"),
    "heat_meter": ("2", None, "provisional"),
    "unorganized_monitoring": (None, 10.0, "seed"),
}
NOT_LOADED = {
    "cems_co2_concentration",
    "calorimeter",
    "carbon_analyser",
    "natural_gas_trade",
    "cems_pressure",
}


@pytest.mark.parametrize("ref", ["cq-part1", "jjf2309-2025"])
def test_accuracy_requirements_pinned(ref: str) -> None:
    reqs = load_pack(ref).accuracy_requirements
    for purpose, (cls, mpe, tag) in ACCURACY.items():
        (band,) = reqs[purpose].bands
        assert (band.accuracy_class, band.mpe_percent, reqs[purpose].tag) == (cls, mpe, tag), purpose
    for purpose in NOT_LOADED:
        assert reqs[purpose].tag == "missing" and reqs[purpose].bands == ()
    velocity = reqs["cems_flow_velocity"].bands
    assert [(b.above, b.at_or_below, b.mpe_percent) for b in velocity] == [(10, None, 10), (None, 10, 12)]
    (temp,) = reqs["cems_temperature"].bands
    assert (temp.mpe_abs, temp.mpe_abs_unit) == (3, "°C")
    hum = reqs["cems_humidity"].bands
    assert [(b.above, b.at_or_below, b.mpe_percent, b.mpe_abs) for b in hum] == [
        (5, None, 25, None),
        (None, 5, None, 1.5),
    ]


@pytest.mark.parametrize("ref", ["cq-part1", "jjf2309-2025"])
def test_clause_catalogue_covers_4_1_to_6_4_10_and_appendices(ref: str) -> None:
    clauses = load_pack(ref).clauses
    for c in [
        "4.1",
        "4.2",
        "5.1.1",
        "5.1.6",
        "5.2.1",
        "5.2.2",
        "6.1",
        "6.2",
        *[f"6.3.{i}" for i in range(1, 10)],
        *[f"6.4.{i}" for i in range(1, 11)],
        "A.1",
        "A.2",
        "A.3",
        "B.1",
    ]:
        assert clauses[c].zh and clauses[c].en, c


def test_edited_copy_loads_by_path_without_code_change(tmp_path: Path) -> None:
    text = (
        CQ_FILE.read_text(encoding="utf-8")
        .replace("weighing_dynamic:\n    table: A.3", "weighing_dynamic:\n    table: A.3", 1)
        .replace('accuracy_class: "0.5"\n    tag: provisional', 'accuracy_class: "0.2"\n    tag: source', 1)
    )
    path = tmp_path / "official.yaml"
    path.write_text(text.replace("version: 2025-12-draft", "version: 2026-official"), encoding="utf-8")
    pack = load_pack(str(path))
    assert pack.version == "2026-official"
    assert pack.accuracy_requirements["weighing_dynamic"].bands[0].accuracy_class == "0.2"
    assert pack.sha256 != load_pack("cq-part1").sha256


def test_every_problem_names_file_key_and_reason(tmp_path: Path) -> None:
    text = CQ_FILE.read_text(encoding="utf-8")
    text = text.replace("major_t:     {value: 5000, tag: seed", "major_t:     {value: 5000, tag: rumour", 1)
    text = text.replace("minor_t:     {value: 1000,", "minor_t:     {value: lots,", 1)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PackError) as err:
        load_pack(str(path))
    lines = [str(p) for p in err.value.problems]
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}: category_thresholds.major_t.tag: 'rumour' is not one of")
    assert lines[1].startswith(f"{path}: category_thresholds.minor_t.value:")


def test_cross_field_rule_is_located(tmp_path: Path) -> None:
    text = CQ_FILE.read_text(encoding="utf-8").replace(
        'accuracy_class: "III"', 'accuracy_class: "III"\n    mpe_percent: 2', 1
    )
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PackError) as err:
        load_pack(str(path))
    (line,) = [str(p) for p in err.value.problems]
    assert "accuracy_requirements.weighing_static.bands.0" in line and "exactly one" in line


def test_missing_value_must_be_tagged_missing() -> None:
    bad = CQ_FILE.read_bytes().replace(
        b"minor_t:     {value: 1000, tag: seed", b"minor_t:     {value: null, tag: seed"
    )
    with pytest.raises(PackError, match="minor_t"):
        parse_pack(bad, "x.yaml")


def test_duplicate_yaml_key_is_an_error() -> None:
    bad = CQ_FILE.read_bytes().replace(
        b"unorganized_threshold:", b"version: again\nunorganized_threshold:", 1
    )
    with pytest.raises(PackError, match="duplicate key 'version'"):
        parse_pack(bad, "dup.yaml")


def test_a_missing_table_a1_row_is_an_error() -> None:
    lines = CQ_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if "row: measurement.unorganized" in line)
    bad = "".join(lines[:start] + lines[start + 3 :]).encode()
    with pytest.raises(PackError, match=r"measurement\.unorganized"):
        parse_pack(bad, "short.yaml")


def test_unknown_pack_name_lists_the_known_ones() -> None:
    with pytest.raises(PackError, match="known: cq-part1, cq-part2-cement, jjf2309-2025"):
        load_pack("cq-part9")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("id: x\nversion: 2025-02-30\n", "not valid YAML: day is out of range for month"),
        ("id: x\nextra: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("id: x\nloop: &a [*a]\n", "nested too deeply"),
    ],
)
def test_a_pack_yaml_cannot_build_is_a_problem_not_a_crash(text: str, reason: str) -> None:
    """Found by the fuzz test: ValueError and RecursionError escaped as exit 1."""
    with pytest.raises(PackError) as caught:
        parse_pack(text.encode("utf-8"), "bad.yaml")
    assert str(caught.value).startswith(f"bad.yaml: (top): {reason}")


@pytest.mark.parametrize("ref", ["cq-part1", "jjf2309-2025"])
def test_due_soon_horizon_is_a_pack_value_with_its_provenance(ref: str) -> None:
    """Every page's 即将到期 (due soon) comes from here, not from code; neither standard sets it, so it is a
    provisional design choice, said so in its note."""
    horizon = load_pack(ref).settings.verification_due_soon_days
    assert (horizon.value, horizon.tag) == (30, "provisional")
    assert "design choice" in (horizon.note or "")
