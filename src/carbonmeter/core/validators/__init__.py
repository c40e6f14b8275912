"""The validator plug-ins, in the order their findings are reported.

A validator is a module with ``CODES`` (every code it emits → default severity), ``CLAUSE`` (the clause it
enforces in the default pack), ``TAGS`` and a pure ``check(facts) -> list[Finding]``.  A validator that meets
things it cannot judge (contract §6.4.3: not a finding about the plant) also has ``NOT_JUDGED`` (its reason
codes) and a pure ``not_judged(facts) -> list[NotJudged]``.  Register one by listing it here;
``tests/core/validators/test_registry.py`` pins this list, and the catalogue test checks that every code has
zh/en messages.
"""

from __future__ import annotations

from types import ModuleType

from carbonmeter.core.validators import (
    accuracy,
    documents,
    emissions,
    equipping,
    method,
    need,
    personnel,
    portable,
    register,
    seals,
    traceability,
    verification_due,
)

REGISTRY: tuple[ModuleType, ...] = (
    method,
    equipping,
    need,
    emissions,
    traceability,
    verification_due,
    accuracy,
    seals,
    portable,
    register,
    documents,
    personnel,
)


def _check_contract(module: ModuleType) -> None:
    for attr in ("CODES", "CLAUSE", "TAGS", "check"):
        if not hasattr(module, attr):
            raise TypeError(f"validator {module.__name__} lacks {attr}")
    if not callable(module.check):
        raise TypeError(f"validator {module.__name__}.check is not callable")
    if hasattr(module, "NOT_JUDGED") != callable(getattr(module, "not_judged", None)):
        raise TypeError(f"validator {module.__name__} needs both NOT_JUDGED and not_judged, or neither")


for _module in REGISTRY:
    _check_contract(_module)


def all_codes() -> dict[str, str]:
    """Every code any validator emits, with its default severity."""
    return {code: sev for m in REGISTRY for code, sev in m.CODES.items()}


def not_judged_codes() -> frozenset[str]:
    """Every reason code any validator gives for what it cannot judge (contract §6.4.3)."""
    return frozenset(code for m in REGISTRY for code in getattr(m, "NOT_JUDGED", ()))
