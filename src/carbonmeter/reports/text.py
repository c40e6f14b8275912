"""The terminal summary in Chinese (``--format text``): verdict, streams, Table A.1 rates, findings, and what
could not be judged.

Written for the carbon manager who reads it before the verifier does: the verdict first, then the numbers,
then the findings — those one untraceable instrument explains grouped under it (contract §6.4.4: one repair,
several consequences), the others under the clause they break — and last, in a section of its own, what the
engine could not judge (§6.4.3), which is not a finding and does not count in the verdict.
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


def _line(f: Finding, *, clause: bool = False) -> str:
    """One finding; under a root cause its clause is named too (the group is not by clause)."""
    mark = _PROVISIONAL if f.provisional else ""
    cited = f" {f.clause}" if clause else ""
    return f"  [{_SEVERITY[f.severity]}] {f.code}{mark}{cited} {render(f.code, f.params, 'zh')}"


def _root_causes(a: Assessment, s: Snapshot) -> tuple[list[str], set[int]]:
    """Findings grouped under the untraceable instrument that explains them (contract §6.4.4), in order of
    first appearance; returns the lines and the indices of the findings they took."""
    groups: dict[str, list[int]] = defaultdict(list)
    for k, f in enumerate(a.findings):
        if f.root_cause:
            groups[f.root_cause].append(k)
    names = {i.id: i.name for i in s.instruments}
    lines: list[str] = []
    for cause, members in groups.items():
        if len(members) < 2:  # a group of one says nothing its clause does not
            continue
        name = names.get(cause, "")
        lines.append(f"根源：器具 {cause}{f'（{name}）' if name else ' '}溯源失效（{len(members)} 项）")
        lines.extend(_line(a.findings[k], clause=True) for k in members)
    taken = {k for members in groups.values() if len(members) >= 2 for k in members}
    return lines, taken


def _findings(a: Assessment, findings: list[Finding]) -> list[str]:
    by_clause: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
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
            lines.append(_line(f))
        for code, n in shown.items():
            if n > OBSERVATIONS_SHOWN and code in {f.code for f in group if f.severity == "observation"}:
                lines.append(
                    f"  …… {code} 另有 {n - OBSERVATIONS_SHOWN} 项同类观察项"
                    "（完整清单见 --format json 或 xlsx）"
                )
    return lines


_WHAT = {"accuracy": "准确度", "uncertainty": "不确定度", "emissions": "排放量"}


def _not_judged(a: Assessment) -> list[str]:
    """What the engine could not judge (contract §6.4.3): not findings, and not part of the verdict."""
    lines = []
    for n in a.not_judged:
        reason = render(n.code, n.params, "zh")
        subject = "" if n.subject in reason else f"{n.subject}："  # most reasons name their subject
        lines.append(f"  [{_WHAT[n.what]}] {subject}{reason}")
    return lines or ["无。"]


def render_text(a: Assessment, s: Snapshot) -> str:
    """The whole summary as one string ending in a newline."""
    grouped, taken = _root_causes(a, s)
    rest = _findings(a, [f for k, f in enumerate(a.findings) if k not in taken])
    if grouped and rest:
        body = ["（一）按根源器具归并", *grouped, "（二）其他发现项（按条款）", *rest]
    else:
        body = grouped or rest or ["无。"]
    parts = [
        "\n".join(_header(a, s)),
        "一、碳源流分类（3.9–3.11）\n" + _streams(a, s),
        "二、碳计量器具配备率（5.2.1，附录A 表A.1）\n" + _rates(a),
        "三、发现项\n" + "\n".join(body),
        "四、不予判定（规则包未载入要求或数据不足；不属发现项，不影响结论）\n" + "\n".join(_not_judged(a)),
    ]
    if any(f.provisional for f in a.findings):
        parts.append(
            f"注：标 {_PROVISIONAL} 的判定依据规则包中的暂定值（来自旧版或二手资料），正式表格发布后须复核。"
        )
    return "\n\n".join(parts) + "\n"
