"""The validator registry and its catalogues: order pinned, every code templated, tested and cited in packs.

Adding a validator or a code means touching this file (the pinned order) and writing its test file, its
zh/en templates and, where its clause is new, the packs' clause catalogues.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

from carbonmeter.core.validators import REGISTRY, all_codes, not_judged_codes
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import catalogue

HERE = Path(__file__).parent
PACKS = ("cq-part1", "jjf2309-2025")
EXPECTED_ORDER = [
    "method",
    "equipping",
    "need",
    "emissions",
    "traceability",
    "verification_due",
    "accuracy",
    "seals",
    "portable",
    "register",
    "documents",
    "personnel",
]


def short_name(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


def code_pattern(code: str) -> re.Pattern[str]:
    """``code`` as a whole token: ``ACC-02`` must not be found inside ``ACC-02-A``."""
    return re.compile(rf"(?<![\w-]){re.escape(code)}(?![\w-])")


def validator_test_sources() -> str:
    return "\n".join(
        p.read_text(encoding="utf-8") for p in sorted(HERE.glob("test_*.py")) if p.name != Path(__file__).name
    )


def test_registry_order_is_pinned() -> None:
    assert [short_name(m) for m in REGISTRY] == EXPECTED_ORDER


def test_every_validator_has_its_own_test_file() -> None:
    missing = [name for name in EXPECTED_ORDER if not (HERE / f"test_{name}.py").is_file()]
    assert missing == []


@pytest.mark.parametrize("module", REGISTRY, ids=short_name)
def test_validator_declares_codes_clause_tags_and_check(module: ModuleType) -> None:
    assert module.CODES and isinstance(module.CODES, dict)
    assert isinstance(module.CLAUSE, str) and module.CLAUSE
    assert isinstance(module.TAGS, frozenset) and module.TAGS
    assert callable(module.check)


def test_codes_are_unique_across_validators() -> None:
    every = [code for m in REGISTRY for code in m.CODES]
    assert len(every) == len(set(every)) == len(all_codes())


@pytest.mark.parametrize("code", sorted(all_codes()))
def test_code_follows_the_scheme_and_has_a_valid_default_severity(code: str) -> None:
    assert re.fullmatch(r"[A-Z]{2,4}-\d{2}(-[A-Z])?", code)
    assert all_codes()[code] in ("nonconformity", "observation")


@pytest.mark.parametrize("code", sorted(all_codes()))
def test_every_code_has_zh_and_en_templates(code: str) -> None:
    templates = catalogue()["messages"].get(code)
    assert templates is not None, f"{code} has no entry in messages.yaml"
    assert isinstance(templates.get("zh"), str) and templates["zh"].strip()
    assert isinstance(templates.get("en"), str) and templates["en"].strip()


def test_every_template_belongs_to_a_validator() -> None:
    # Import errors (IMP-) are the readers' codes, checked by tests/io/test_messages.py; NJ- are the
    # accounting model's not-judged reasons (contract §6.4.3), checked in tests/core/test_accounting.py.
    own = {code for code in catalogue()["messages"] if not code.startswith(("IMP-", "NJ-"))}
    orphans = sorted(own - set(all_codes()) - not_judged_codes())
    assert orphans == []


def test_every_code_is_exercised_by_a_validator_test() -> None:
    sources = validator_test_sources()
    every = sorted(set(all_codes()) | not_judged_codes())
    untested = [code for code in every if not code_pattern(code).search(sources)]
    assert untested == []


@pytest.mark.parametrize("code", sorted(not_judged_codes()))
def test_every_not_judged_reason_has_zh_and_en_templates(code: str) -> None:
    assert re.fullmatch(r"[A-Z]{2,4}-\d{2}(-[A-Z])?", code)
    assert code not in all_codes()  # a reason is never also a finding
    templates = catalogue()["messages"][code]
    assert templates["zh"].strip() and templates["en"].strip()


def test_retired_codes_are_gone() -> None:
    # Contract §6.4.3: CAT-01 and ACC-02-A are no longer findings; TRC-02 now means period traceability.
    assert "CAT-01" not in all_codes() and "CAT-01" not in catalogue()["messages"]
    assert "ACC-02-A" in not_judged_codes() and "ACC-02-A" not in all_codes()
    assert all_codes()["TRC-02"] == "nonconformity" and all_codes()["TRC-03"] == "observation"


@pytest.mark.parametrize("module", [m for m in REGISTRY if hasattr(m, "not_judged")], ids=short_name)
def test_a_validator_that_cannot_judge_declares_its_reasons(module: ModuleType) -> None:
    assert module.NOT_JUDGED and callable(module.not_judged)


@pytest.mark.parametrize("pack_id", PACKS)
@pytest.mark.parametrize("module", REGISTRY, ids=short_name)
def test_every_validator_clause_is_in_the_packs_clause_catalogue(pack_id: str, module: ModuleType) -> None:
    assert module.CLAUSE in load_pack(pack_id).clauses


@pytest.mark.parametrize("pack_id", PACKS)
def test_pack_severity_overrides_name_known_codes_or_families(pack_id: str) -> None:
    codes = set(all_codes())
    families = {c.rsplit("-", 1)[0] for c in codes if c.count("-") == 2}
    unknown = sorted(set(load_pack(pack_id).severity) - codes - families)
    assert unknown == []
