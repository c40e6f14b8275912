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
from carbonmeter.core.equipping import RowResult
from carbonmeter.core.findings import Finding
from carbonmeter.core.snapshot import Snapshot
from carbonmeter.core.terms import OPEN_TERMS
from carbonmeter.reports.emissions import formula_streams
from carbonmeter.reports.table import table
from carbonmeter.rules.messages import format_number, label_text, render

_SEVERITY = {"nonconformity": "不符合", "observation": "观察"}
_PROVISIONAL = "※"
_NUMERALS = "一二三四五六七八九十"
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


def _rate_cells(r: RowResult) -> list[str]:
    mark = "—" if r.required == 0 else ("合格" if r.passed else "不合格")
    return [
        label_text(f"row.{r.row}", "zh"),
        f"{r.equipped}/{r.required}",
        _pct(r.rate),
        _pct(r.required_rate),
        mark,
    ]


def _rates(a: Assessment, s: Snapshot) -> str:
    headers = ["表A.1 行", "已配备/应配备", "配备率", "要求", "结论"]
    text = table(headers, [_rate_cells(r) for r in a.rows], right=(1, 2, 3))
    names = {f.id: f.name or f.id for f in s.facilities}
    by_facility = [[names[f.facility], *_rate_cells(f.result)] for f in a.by_facility if f.result.required]
    if by_facility:
        text += "\n按生产设施（4.1；类别按全厂判定）：\n" + table(
            ["生产设施", *headers], by_facility, right=(2, 3, 4)
        )
    return text


def label_param(parameter: str) -> str:
    return OPEN_TERMS["parameter"].get(parameter, parameter)


def _significant(x: float) -> str:
    """A value with four significant digits when small (a mass fraction 0.0080), grouped when large."""
    return f"{x:.4g}" if abs(x) < 100 else format_number(round(x, 1))


def _u_pct(x: float | None) -> str:
    return "未评定" if x is None else f"{x * 100:.2f}%"


def _unit(unit: str) -> str:
    return "—" if unit in ("", "1", "dimensionless") else unit


def _emission_rows(a: Assessment, s: Snapshot) -> list[list[str]]:
    rows = []
    for c, st, name, formula in formula_streams(a, s):
        rows.append(
            [
                c.stream,
                name,
                formula,
                "—" if st.declared_t is None else format_number(round(st.declared_t)),
                "—" if st.computed_t is None else format_number(round(st.computed_t)),
                "未评定" if st.u95_t is None else format_number(round(st.u95_t)),
                _u_pct(None if st.u95_t is None else st.u95_t / c.emissions_t if c.emissions_t else None),
                "—" if st.activity_u95_percent is None else f"{st.activity_u95_percent:.2f}%",
                "—" if st.tier is None else str(st.tier),
            ]
        )
    return rows


def _budget(a: Assessment) -> list[str]:
    """The budget of the largest computed stream: which input contributes what, on which instrument."""
    acc = a.accounting
    assert acc is not None
    judged = [c for c in a.streams if (st := acc.streams[c.stream]).evaluation and st.evaluation.budget]
    if not judged:
        return []
    largest = max(judged, key=lambda c: c.emissions_t)
    ev = acc.streams[largest.stream].evaluation
    assert ev is not None
    rows = [
        [
            b.point,
            label_param(b.parameter),
            _significant(b.value),
            _unit(b.unit),
            _u_pct(b.u_rel),
            b.instrument or "—",
            b.certificate_no or "—",
            _pct(b.contribution),
        ]
        for b in ev.budget
    ]
    head = f"最大碳源流 {largest.stream} 的不确定度预算（各输入量对方差的贡献）："
    return [
        head,
        table(
            ["计量点", "参数", "年度值", "单位", "相对标准不确定度", "器具", "证书编号", "贡献"],
            rows,
            right=(2, 4, 7),
        ),
    ]


def _advisor(a: Assessment) -> list[str]:
    acc = a.accounting
    assert acc is not None
    if not acc.advisor:
        return []
    lines = ["改进建议（按对全厂排放量方差的贡献排序，≥1%，至多10项）："]
    for n, x in enumerate(acc.advisor, 1):
        what = "提高测量准确度（升级器具或检测方法）" if x.action == "upgrade" else "由缺省值改为实测"
        if x.to:
            what += f"：升至 {x.to}，全厂 U95 可减少 {format_number(round(x.reduction_t or 0))} t"
        elif x.action == "upgrade":
            what += "（规则包未给出升级阶梯）"
        lines.append(
            f"  {n}. {x.point}（{x.stream} · {label_param(x.parameter)}）贡献 {_pct(x.contribution)}："
            f"{what}；消除该项不确定度最多可使全厂 U95 减少 {format_number(round(x.max_reduction_t))} t"
        )
    return lines


def _emissions(a: Assessment, s: Snapshot) -> list[str]:
    acc = a.accounting
    if acc is None or not any(st.formula for st in acc.streams.values()):
        return []
    lines = [
        table(
            ["编号", "名称", "核算公式", "申报(t)", "计算(t)", "U95(t)", "U95(%)", "活动数据U95", "层级"],
            _emission_rows(a, s),
            right=(3, 4, 5, 6, 7, 8),
        )
    ]
    total = a.total_emissions_t
    if acc.total_u95_t is not None:
        rel = acc.total_u95_t / abs(total) if total else None
        lines.append(
            f"全厂净排放量 {format_number(round(total))} tCO2e，扩展不确定度 U95 = "
            f"{format_number(round(acc.total_u95_t))} t（{_u_pct(rel)}，k = {format_number(acc.k)}）"
            + ("" if acc.complete else "；部分碳源流的不确定度未评定，未计入（见不予判定）")
        )
    if a.monte_carlo is not None:
        lines.append(
            f"蒙特卡洛法（JCGM 101，{format_number(a.monte_carlo.draws)} 次抽样）：U95 = "
            f"{format_number(round(a.monte_carlo.u95_t))} t"
        )
    lines += _budget(a)
    lines += _advisor(a)
    return lines


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
    sections = [
        ("碳源流分类（3.9–3.11）", _streams(a, s)),
        ("碳计量器具配备率（5.2.1，附录A 表A.1）", _rates(a, s)),
    ]
    emissions = _emissions(a, s)
    if emissions:
        sections.append(("排放量与不确定度（6.3）", "\n".join(emissions)))
    sections += [
        ("发现项", "\n".join(body)),
        ("不予判定（规则包未载入要求或数据不足；不属发现项，不影响结论）", "\n".join(_not_judged(a))),
    ]
    parts = ["\n".join(_header(a, s))]
    parts += [f"{_NUMERALS[n]}、{title}\n{text}" for n, (title, text) in enumerate(sections)]
    if any(f.provisional for f in a.findings):
        parts.append(
            f"注：标 {_PROVISIONAL} 的判定依据规则包中的暂定值（来自旧版或二手资料），正式表格发布后须复核。"
        )
    return "\n\n".join(parts) + "\n"
