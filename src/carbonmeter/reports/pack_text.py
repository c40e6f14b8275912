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
        if isinstance(node, Tagged | AccuracyRequirement) or isinstance(getattr(node, "tag", None), str):
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

    def section(title: str, table_key: str, headers: list[str], rows: Iterable[tuple[str, list[str]]]) -> str:
        """A table whose rows are entries of ``table_key``; a pack that extends another gains an ``origin``
        column: the ``id@version`` each value comes from."""
        if not p.extends:
            return _section(title, headers, (row for _, row in rows))
        return _section(
            title,
            [*headers, "origin"],
            ([*row, p.origin(f"{table_key}.{key}" if table_key else key)] for key, row in rows),
        )

    head = f"# {p.id} {p.version} ({p.status})\n{p.title.zh}\n{p.title.en}\n"
    head += f"sha256 {p.sha256}\nfile {p.path}\n"
    if p.extends:
        head += f"extends {p.extends}\n"
    k, tiers = p.coverage_factor, p.tier_thresholds
    parts = [
        head + "\n".join(f"source: {s}" for s in p.sources),
        section(
            "category thresholds (3.9–3.11)",
            "category_thresholds",
            ["key", "value", "tag", "note"],
            ((k, [k, *_v(getattr(th, k))]) for k in th.__struct_fields__),
        ),
        section(
            "unorganized threshold (A.1)",
            "unorganized_threshold",
            ["key", "value", "tag", "note"],
            ((k, [k, *_v(getattr(un, k))]) for k in un.__struct_fields__),
        ),
        section(
            "Table A.1 equipping rates",
            "equipping_rows",
            ["row", "rate", "tag", "note", "non-key rate", "tag", "note"],
            ((r.row, [r.row, *_v(r.required_rate), *_v(r.required_rate_non_key)]) for r in p.equipping_rows),
        ),
        section(
            "Tables A.2/A.3 accuracy by purpose",
            "accuracy_requirements",
            ["purpose", "table", "requirement", "tag", "basis", "note"],
            (
                (key, [key, r.table, _requirement(r), r.tag, r.basis, r.note])
                for key, r in p.accuracy_requirements.items()
            ),
        ),
        section(
            "settings",
            "settings",
            ["key", "value", "tag", "note"],
            ((k, [k, *_v(getattr(st, k))]) for k in st.__struct_fields__),
        ),
        section(
            "severity overrides",
            "severity",
            ["code", "severity", "tag", "note"],
            ((c, [c, *_v(t)]) for c, t in p.severity.items()),
        ),
        section(
            "required management documents (6.1)",
            "required_documents",
            ["kind", "zh", "tag", "note"],
            ((d.kind, [d.kind, d.zh, d.tag, d.note]) for d in p.required_documents),
        ),
        section(
            "clauses",
            "clauses",
            ["clause", "zh", "en", "tag"],
            ((c, [c, e.zh, e.en, e.tag]) for c, e in p.clauses.items()),
        ),
        section(
            "formulas (contract §6.2; d = default allowed at these categories)",
            "formulas",
            ["formula", "parameter", "role", "unit", "d", "tag", "note"],
            (
                (fid, row)
                for fid, f in p.formulas.items()
                for row in [
                    [fid, "(formula)", "", "", "", f.tag, f.note],
                    *(
                        [fid, name, q.role, " | ".join(q.units), ",".join(q.default_allowed), "", q.note]
                        for name, q in f.parameters.items()
                    ),
                ]
            ),
        ),
        section(
            "factor library",
            "factors",
            ["key", "value", "unit", "u_rel", "tag", "year", "publication", "source", "note"],
            (
                (
                    key,
                    [
                        key,
                        "null" if f.value is None else str(f.value),
                        f.unit,
                        "—" if f.u_rel is None else str(f.u_rel),
                        f.tag,
                        "" if f.year is None else str(f.year),
                        f.publication,
                        f.source,
                        f.note,
                    ],
                )
                for key, f in p.factors.items()
            ),
        ),
        section(
            "coverage factor and EU tiers (contract §6.3)",
            "",
            ["key", "value", "tag", "note"],
            (
                (key, [key, *_v(t)])
                for key, t in (("coverage_factor", k), ("tier_thresholds", tiers))
                if t is not None
            ),
        ),
        section(
            "upgrade ladder by purpose (worst step first)",
            "upgrade_ladder",
            ["purpose", "steps", "tag", "note"],
            (
                (key, [key, "null" if t.value is None else " → ".join(t.value), t.tag, t.note])
                for key, t in p.upgrade_ladder.items()
            ),
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
