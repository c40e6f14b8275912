"""The functional core stays pure: the engine, the rules and their types import no I/O or web library."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = (
    "django",
    "openpyxl",
    "duckdb",
    "pandas",
    "carbonmeter.io",
    "carbonmeter.reports",
    "carbonmeter.cli",
)


def loaded_modules(*imports: str) -> list[str]:
    """The modules a fresh interpreter holds after importing ``imports``."""
    code = f"import sys, {', '.join(imports)}\nprint('\\n'.join(sys.modules))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return run.stdout.split()


def test_core_imports_nothing_impure() -> None:
    mods = loaded_modules("carbonmeter.core.assess", "carbonmeter.rules.loader")
    assert "carbonmeter.core.assess" in mods
    assert [m for m in mods if m.split(".")[0] in FORBIDDEN or m.startswith(FORBIDDEN)] == []


def test_rules_never_import_core() -> None:
    mods = loaded_modules("carbonmeter.rules.loader", "carbonmeter.rules.messages")
    assert "carbonmeter.rules.loader" in mods
    assert [m for m in mods if m.startswith("carbonmeter.core")] == []


#: The pure reading engines (docs/specs/readings.md *Where things live*): no Django, files, DuckDB, Arrow.
READINGS_PURE = (
    "carbonmeter.readings.model",
    "carbonmeter.readings.units",
    "carbonmeter.readings.demo",
    "carbonmeter.readings.series",
    "carbonmeter.readings.counters",
    "carbonmeter.readings.gaps",
    "carbonmeter.readings.substitution",
    "carbonmeter.readings.cems",
    "carbonmeter.readings.validity",
)
READINGS_FORBIDDEN = (*FORBIDDEN, "pyarrow", "ibis", "carbonmeter.web")


def test_reading_engines_import_nothing_impure() -> None:
    mods = loaded_modules(*READINGS_PURE)
    assert set(READINGS_PURE) <= set(mods)
    impure = [m for m in mods if m.split(".")[0] in READINGS_FORBIDDEN or m.startswith(READINGS_FORBIDDEN)]
    assert impure == []


#: The quantitative layer (docs/specs/quant.md): pint, numpy (scipy.special and GTC only when called: they
#: cost ~1 s to import), nothing of the product's other layers.
QUANT = (
    "carbonmeter.quant.units",
    "carbonmeter.quant.uncertainty",
    "carbonmeter.quant.montecarlo",
    "carbonmeter.quant.formulas",
)
QUANT_FORBIDDEN = (
    *FORBIDDEN,
    "pyarrow",
    "ibis",
    "GTC",
    "scipy.special",
    "carbonmeter.core",
    "carbonmeter.readings",
    "carbonmeter.web",
)


def test_quant_imports_nothing_impure() -> None:
    mods = loaded_modules(*QUANT)
    assert set(QUANT) <= set(mods)
    impure = [m for m in mods if m.split(".")[0] in QUANT_FORBIDDEN or m.startswith(QUANT_FORBIDDEN)]
    assert impure == []
