"""Import errors come from the one message catalogue: every code the readers and the web import use is
there in both languages, and every import code there is used (none left behind when a message goes)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from carbonmeter.io.problems import Reason
from carbonmeter.rules.messages import catalogue, template_fields

SRC = Path(__file__).parents[2] / "src" / "carbonmeter"
USERS = [
    *sorted((SRC / "io").glob("*.py")),
    SRC / "web" / "assessment" / "services" / "transfer.py",
]
CODE = re.compile(r'"(IMP-\d{2})"')


def used_codes() -> set[str]:
    return {code for path in USERS for code in CODE.findall(path.read_text(encoding="utf-8"))}


def import_codes() -> set[str]:
    return {code for code in catalogue()["messages"] if code.startswith("IMP-")}


@pytest.mark.parametrize("code", sorted(used_codes()))
def test_every_code_used_is_in_the_catalogue_in_both_languages(code: str) -> None:
    entry = catalogue()["messages"].get(code)
    assert entry is not None, f"{code} is used but not in messages.yaml"
    assert isinstance(entry.get("zh"), str) and entry["zh"].strip()
    assert isinstance(entry.get("en"), str) and entry["en"].strip()
    assert template_fields(code, "zh") == template_fields(code, "en")


def test_every_import_code_in_the_catalogue_is_used() -> None:
    assert import_codes() - used_codes() == set()


def test_a_reason_renders_in_one_language_or_both() -> None:
    reason = Reason("IMP-25", {"value": "'十万'"}, then="x")
    assert reason.text("zh") == "不是数字（'十万'） — x"
    assert reason.text("en") == "not a number (got '十万') — x"
    assert str(reason) == "not a number (got '十万') / 不是数字（'十万'） — x"
