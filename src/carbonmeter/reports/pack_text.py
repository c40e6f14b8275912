"""``carbonmeter rules list`` and ``rules show``: a pack's every value with its provenance tag."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from carbonmeter.reports.table import table
from carbonmeter.rules.schema import AccuracyRequirement, Pack, Tagged


def _tags(pack: Pack) -> Counter[str]:
    """How many values of each provenance the pack holds."""
    counts: Counter[str] = Counter()

    def walk(node: Any) -> None:
        if isinstance(node, Tagged | AccuracyRequirement) or (hasattr(node, "tag") and hasattr(node, "zh")):
            counts[node.tag] += 1
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, tuple | list):
            for v in node:
                walk(v)
        elif hasattr(node, "__struct_fields__"):
            for name in node.__struct_fields__:
                walk(getattr(node, name))

    walk(pack)
    return counts


def render_pack_list(packs: Sequence[Pack]) -> str:
    rows = []
    for p in packs:
        t = _tags(p)
        summary = ", ".join(f"{k} {t[k]}" for k in ("seed", "source", "provisional", "missing") if t[k])
        rows.append([p.id, p.version, p.status, summary, p.title.zh])
    return table(["id", "version", "status", "values by provenance", "title"], rows) + "\n"


def _v(t: Tagged[Any] | None) -> list[str]:
    if t is None:
        return ["—", "", ""]
    value = "null" if t.value is None else str(t.value)
    return [value, t.tag, t.note]


def _section(title: str, headers: list[str], rows: Iterable[list[str]]) -> str:
    return f"## {title}\n" + table(headers, list(rows))


def render_pack(p: Pack) -> str:
    th, un, st = p.category_thresholds, p.unorganized_threshold, p.settings
    parts = [
        f"# {p.id} {p.version} ({p.status})\n{p.title.zh}\n{p.title.en}\nsha256 {p.sha256}\nfile {p.path}\n"
        + "\n".join(f"source: {s}" for s in p.sources),
        _section(
            "category thresholds (3.9–3.11)",
            ["key", "value", "tag", "note"],
            [[k, *_v(getattr(th, k))] for k in th.__struct_fields__],
        ),
        _section(
            "unorganized threshold (A.1)",
            ["key", "value", "tag", "note"],
            [[k, *_v(getattr(un, k))] for k in un.__struct_fields__],
        ),
        _section(
            "Table A.1 equipping rates",
            ["row", "rate", "tag", "note", "non-key rate", "tag", "note"],
            [[r.row, *_v(r.required_rate), *_v(r.required_rate_non_key)] for r in p.equipping_rows],
        ),
        _section(
            "Tables A.2/A.3 accuracy by purpose",
            ["purpose", "table", "requirement", "tag", "basis", "note"],
            [
                [k, r.table, _requirement(r), r.tag, r.basis, r.note]
                for k, r in p.accuracy_requirements.items()
            ],
        ),
        _section(
            "settings",
            ["key", "value", "tag", "note"],
            [[k, *_v(getattr(st, k))] for k in st.__struct_fields__],
        ),
        _section(
            "severity overrides",
            ["code", "severity", "tag", "note"],
            [[c, *_v(t)] for c, t in p.severity.items()],
        ),
        _section(
            "required management documents (6.1)",
            ["kind", "zh", "tag", "note"],
            [[d.kind, d.zh, d.tag, d.note] for d in p.required_documents],
        ),
        _section(
            "clauses", ["clause", "zh", "en", "tag"], [[c, e.zh, e.en, e.tag] for c, e in p.clauses.items()]
        ),
    ]
    return "\n\n".join(parts) + "\n"


def _requirement(r: AccuracyRequirement) -> str:
    if not r.bands:
        return "not loaded"
    out = []
    for b in r.bands:
        req = b.accuracy_class or (
            f"±{b.mpe_percent}%" if b.mpe_percent else f"±{b.mpe_abs} {b.mpe_abs_unit}"
        )
        cond = []
        if b.above is not None:
            cond.append(f">{b.above}")
        if b.at_or_below is not None:
            cond.append(f"≤{b.at_or_below}")
        out.append(req + (f" ({' '.join(cond)} {r.band_unit})" if cond else ""))
    return " / ".join(out)
