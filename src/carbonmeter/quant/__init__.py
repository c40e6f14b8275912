"""Pure quantitative layer: the one unit registry, the emission formulas, GUM propagation and Monte Carlo.

Imports the standard library, pint, numpy (scipy lazily, for t-quantiles); never ``carbonmeter.core``,
Django, DuckDB or the web. See ``docs/specs/quant.md``.
"""
