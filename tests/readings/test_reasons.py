"""Quarantine reasons come from the one message catalogue (``rules/messages.yaml``, block ``quarantine``):
every (code, variant) the code can emit has a zh and an en template with the same parameters, and the
catalogue holds no reason nothing emits."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from carbonmeter.readings.ingest import CHECKS
from carbonmeter.readings.model import Code, Quarantine, reason_text, reasons
from carbonmeter.rules.messages import quarantine_templates

SRC = Path(__file__).parents[2] / "src" / "carbonmeter"
#: ``Code.PARSE, "cells"`` written where a Quarantine is made (the CHECKS table and the readers).
_EMITTED = re.compile(r"Code\.([A-Z]+),\s*\"([a-z_0-9]+)\"")
#: ``RejectedRow("payload_json", …)``: quarantined as RD-PARSE with that variant.
_REJECTED = re.compile(r"RejectedRow\(\s*\"([a-z_0-9]+)\"")


def emitted() -> set[tuple[str, str]]:
    found = {(str(code), variant) for code, variant, _column in CHECKS.values()}
    for path in SRC.rglob("*.py"):
        for name, variant in _EMITTED.findall(path.read_text(encoding="utf-8")):
            found.add((str(Code[name]), variant))
        for variant in _REJECTED.findall(path.read_text(encoding="utf-8")):
            found.add((str(Code.PARSE), variant))
    return found


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_scan_finds_the_readers_reasons() -> None:
    """The scan is not vacuous: it sees the reasons made outside the CHECKS table."""
    assert {("RD-PARSE", "cells"), ("RD-PARSE", "encoding"), ("RD-TIME", "zone")} <= emitted()
    assert ("RD-PARSE", "payload_json") in emitted()


@pytest.mark.parametrize(("code", "variant"), sorted(emitted()))
def test_every_emitted_reason_is_in_the_catalogue_in_both_languages(code: str, variant: str) -> None:
    entry = quarantine_templates().get(code, {}).get(variant)
    assert entry is not None, f"{code} {variant} has no entry in messages.yaml (block quarantine)"
    assert entry["zh"].strip() and entry["en"].strip()
    assert fields(entry["zh"]) == fields(entry["en"])
    assert re.search(r"[\u4e00-\u9fff]", entry["zh"]), "the zh template is Chinese"


def test_every_catalogue_reason_is_emitted_by_a_known_code() -> None:
    listed = {(code, variant) for code, variants in quarantine_templates().items() for variant in variants}
    assert listed == emitted()
    assert {code for code, _ in listed} <= {str(c) for c in Code}
    assert set(reasons()) == {(Code(c), v) for c, v in listed}


def test_a_reason_renders_from_the_catalogue_with_its_parameters() -> None:
    q = Quarantine("f.csv", "", 3, "数值", Code.PARSE, "value", {"cell": "x", "column": "数值"})
    assert q.reason("zh") == "列“数值”的“x”不是有限数值"
    assert q.reason("en") == "'x' in column '数值' is not a finite number"
    assert reason_text("RD-RANGE", "range", {"value": 5.0}, "en").startswith("value 5 ")
