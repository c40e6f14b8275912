"""Explaining why a document does not fit a type: every problem, each with its path.

The snapshot and the rule packs are msgspec types, decoded fast and strictly; msgspec stops at the first
error.  When it refuses a document, the document is checked against the JSON Schema msgspec generates from
the same type, which lists *every* problem — so a user fixes a file in one pass, and there is still only one
definition of each format.  Rules the schema cannot express (``__post_init__`` checks) come from msgspec's
own message.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import msgspec

from carbonmeter.rules.messages import quote

Path = list[str | int]
_BOUNDS = {
    "minimum": ("≥", "不能小于"),
    "exclusiveMinimum": (">", "须大于"),
    "maximum": ("≤", "不能大于"),
    "exclusiveMaximum": ("<", "须小于"),
}
_PATH_PART = re.compile(r"\.([^.\[\]`]+)|\[(\d+)\]|\[(\.\.\.)\]")
_UNKNOWN_KEY = object()


@cache
def json_schema(kind: type) -> dict[str, Any]:
    """The JSON Schema of a msgspec type, with unknown keys refused on every object."""
    schema: dict[str, Any] = msgspec.json.schema(kind)
    for definition in schema.get("$defs", {}).values():
        if "properties" in definition:
            definition["additionalProperties"] = False
    return schema


def _reason(error: Any) -> list[tuple[Path, str]]:
    """(path, reason) pairs for one jsonschema error, pointing at the key concerned where it can."""
    path: Path = list(error.absolute_path)
    kind = error.validator
    if kind == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        text = 'unknown key (keep your own data under "extra") / 未知字段'
        return [([*path, k], text) for k in error.instance if k not in allowed]
    if kind == "required":
        key = re.findall(r"'([^']+)'", error.message)
        return [([*path, *key[:1]], "required field is missing / 缺少必填项")]
    if kind == "anyOf" and error.context:
        specific = [e for e in error.context if not (e.validator == "type" and e.validator_value == "null")]
        if specific:
            return _reason(min(specific, key=lambda e: len(list(e.relative_schema_path))))
    if kind == "enum":
        allowed_values = ", ".join(str(v) for v in error.validator_value)
        return [(path, f"{quote(error.instance)} is not one of: {allowed_values}")]
    if kind == "format" and error.validator_value == "date":
        return [(path, f"{quote(error.instance)} is not a valid date (YYYY-MM-DD) / 日期无效")]
    if kind in _BOUNDS:
        sign, zh = _BOUNDS[kind]
        bound = error.validator_value
        return [(path, f"must be {sign} {bound} (got {quote(error.instance)}) / {zh} {bound}")]
    if kind == "minLength":
        return [(path, "must not be empty / 不能为空")]
    return [(path, error.message)]


def _order(path: Path) -> list[tuple[int, Any]]:
    return [(0, x) if isinstance(x, int) else (1, str(x)) for x in path]


def schema_problems(kind: type, doc: Any) -> list[tuple[Path, str]]:
    """Every schema problem of a JSON-like document, as ``(path, reason)``, in document order."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(json_schema(kind), format_checker=jsonschema.FormatChecker())
    found = [pair for error in validator.iter_errors(doc) for pair in _reason(error)]
    return sorted(found, key=lambda p: _order(p[0]))


def _parse_path(where: str) -> list[Any]:
    """``$.a[3][...]`` → ``["a", 3, _UNKNOWN_KEY]`` (msgspec does not name dict keys)."""
    parts: list[Any] = []
    for name, index, _ in _PATH_PART.findall(where.rstrip("`").removeprefix("$")):
        parts.append(name if name else int(index) if index else _UNKNOWN_KEY)
    return parts


def _name_keys(kind: type, doc: Any, parts: list[Any], message: str) -> Path:
    """Find the dict keys msgspec left unnamed: the key whose entry alone reproduces the same error."""
    named: Path = []
    node = doc
    for i, part in enumerate(parts):
        if part is _UNKNOWN_KEY and isinstance(node, dict):
            part = next((k for k in node if _fails_alone(kind, doc, [*named], k, message)), "...")
        named.append(part)
        node = node.get(part) if isinstance(node, dict) else node[part] if isinstance(part, int) else None
        if node is None and i < len(parts) - 1:
            return [*named, *("..." if p is _UNKNOWN_KEY else p for p in parts[i + 1 :])]
    return named


def _fails_alone(kind: type, doc: Any, path: Path, key: str, message: str) -> bool:
    """Whether the document, with the dict at ``path`` cut down to ``key``, fails with ``message``."""
    import copy

    trial = copy.deepcopy(doc)
    node = trial
    for part in path:
        node = node[part]
    for other in [k for k in node if k != key]:
        del node[other]
    try:
        msgspec.convert(trial, kind)
    except msgspec.ValidationError as exc:
        return str(exc) == message
    return False


def msgspec_problem(kind: type, doc: Any, exc: msgspec.ValidationError) -> tuple[Path, str]:
    """msgspec's own message (``reason - at `$.a.b[3]` ``) as path and reason, dict keys named."""
    reason, _, where = str(exc).partition(" - at `")
    return _name_keys(kind, doc, _parse_path(where), str(exc)), reason


def explain(kind: type, doc: Any, exc: msgspec.ValidationError) -> list[tuple[Path, str]]:
    """Every problem the schema sees; msgspec's own where the schema sees none (a cross-field rule)."""
    return schema_problems(kind, msgspec.to_builtins(doc)) or [msgspec_problem(kind, doc, exc)]
