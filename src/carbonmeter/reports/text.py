"""The terminal summary in Chinese (``--format text``): verdict, streams, Table A.1 rates, findings by clause.

Written for the carbon manager who reads it before the verifier does: the verdict first, then the numbers,
then every finding under the clause it breaks, with what to look at.
"""

from __future__ import annotations

from collections import defaultdict

from carbonmeter.core.assess import Assessment
from carbonmeter.core.findings import Finding
from carbonmeter.core.snapshot import Snapshot
from carbonmeter.reports.table import table
from carbonmeter.rules.messages import format_number, label_text, render

_SEVERITY = {"nonconformity": "不符合", "observation": "观察"}
_PROVISIONAL = "※"
#: Observations of one code beyond this many are summarised in one line; nonconformities are always listed.
OBSERVATIONS_SHOWN = 3


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _clause_key(clause: str) -> tuple[int, ...]:
    head = clause.replace("A.", "100.").replace("B.", "200.")
    return tuple(int(p) for p in head.split(".") if p.isdigit())


def _header(a: Assessment, s: Snapshot) -> list[str]:
    n_nc = sum(f.severity == "nonconformity" for f in a.findings)
    n_obs = len(a.findings) - n_nc
    verdict = "符合" if a.conforms else "不符合"
    pack = a.pack
    return [
        f"碳计量器具配备与管理评价 — {s.organization.name}",
        f"规则包：{pack.title.zh} {pack.version}（{'征求意见稿' if pack.status == 'draft' else '正式版'}）"
        f"  评价日期：{a.as_of.isoformat()}  报告年度：{s.reporting_year}",
        f"排放总量：{format_number(a.total_emissions_t)} tCO2e  碳源流 {len(a.streams)} 个  "
        f"计量点 {len(s.measuring_points)} 个  器具 {len(a.instruments)} 台",
        f"结论：{verdict}（不符合项 {n_nc} 项，观察项 {n_obs} 项）",
    ]


def _streams(a: Assessment, s: Snapshot) -> str:
    names = {x.id: x.name for x in s.source_streams}
    rows = [
        [
            c.stream,
            names[c.stream],
            format_number(c.emissions_t),
            _pct(c.share),
            label_text(f"category.{c.category}", "zh"),
        ]
        for c in sorted(a.streams, key=lambda c: -c.emissions_t)
    ]
    return table(["编号", "名称", "排放量(tCO2e)", "占比", "类别"], rows, right=(2, 3))


def _rates(a: Assessment) -> str:
    rows = []
    for r in a.rows:
        mark = "—" if r.required == 0 else ("合格" if r.passed else "不合格")
        rows.append(
            [
                label_text(f"row.{r.row}", "zh"),
                f"{r.equipped}/{r.required}",
                _pct(r.rate),
                _pct(r.required_rate),
                mark,
            ]
        )
    return table(["表A.1 行", "已配备/应配备", "配备率", "要求", "结论"], rows, right=(1, 2, 3))


def _findings(a: Assessment) -> list[str]:
    by_clause: dict[str, list[Finding]] = defaultdict(list)
    for f in a.findings:
        by_clause[f.clause].append(f)
    lines: list[str] = []
    for clause in sorted(by_clause, key=_clause_key):
        entry = a.pack.clauses.get(clause)
        title = entry.zh if entry else ""
        group = sorted(by_clause[clause], key=lambda f: (f.severity != "nonconformity", f.code))
        lines.append(f"{clause} {title}（{len(group)} 项）")
        shown: dict[str, int] = defaultdict(int)
        for f in group:
            shown[f.code] += 1
            if f.severity == "observation" and shown[f.code] > OBSERVATIONS_SHOWN:
                continue
            mark = _PROVISIONAL if f.provisional else ""
            lines.append(f"  [{_SEVERITY[f.severity]}] {f.code}{mark} {render(f.code, f.params, 'zh')}")
        for code, n in shown.items():
            if n > OBSERVATIONS_SHOWN and code in {f.code for f in group if f.severity == "observation"}:
                lines.append(
                    f"  …… {code} 另有 {n - OBSERVATIONS_SHOWN} 项同类观察项"
                    "（完整清单见 --format json 或 xlsx）"
                )
    return lines or ["无。"]


def render_text(a: Assessment, s: Snapshot) -> str:
    """The whole summary as one string ending in a newline."""
    parts = [
        "\n".join(_header(a, s)),
        "一、碳源流分类（3.9–3.11）\n" + _streams(a, s),
        "二、碳计量器具配备率（5.2.1，附录A 表A.1）\n" + _rates(a),
        "三、发现项（按条款）\n" + "\n".join(_findings(a)),
    ]
    if any(f.provisional for f in a.findings):
        parts.append(
            f"注：标 {_PROVISIONAL} 的判定依据规则包中的暂定值（来自旧版或二手资料），正式表格发布后须复核。"
        )
    return "\n\n".join(parts) + "\n"
