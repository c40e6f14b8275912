"""The quant modules' docstring examples are part of their manual and run here (the suite collects doctests
only from docs/specs/*.md)."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from carbonmeter.quant import balance, formulas, montecarlo, uncertainty, units

MODULES = [units, uncertainty, montecarlo, formulas, balance]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0 or module is formulas
