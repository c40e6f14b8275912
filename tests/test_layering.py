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
