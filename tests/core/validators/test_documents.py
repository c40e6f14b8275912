"""MGT-01 (6.1): the management documents the pack requires are present and approved.

``-A`` a required document is missing; ``-B`` it exists but carries no approval dated on or before the
assessment date.
"""

from __future__ import annotations

from datetime import date

import pytest

from carbonmeter.core.facts import establish
from carbonmeter.core.findings import Finding
from carbonmeter.core.snapshot import Document
from carbonmeter.core.validators import documents
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import render
from carbonmeter.rules.schema import Pack
from tests.builders import AS_OF, docs, snapshot

CQ = load_pack("cq-part1")
JJF = load_pack("jjf2309-2025")
REQUIRED = tuple(d.kind for d in CQ.required_documents)
FIRST, *OTHERS = REQUIRED


def check(docs_: tuple[Document, ...], pack: Pack = CQ) -> list[Finding]:
    snap = snapshot(documents=docs_)
    return documents.check(establish(snap, pack, snap.as_of))


def rendered(f: Finding) -> tuple[str, str]:
    zh, en = render(f.code, f.params, "zh"), render(f.code, f.params, "en")
    assert "{" not in zh + en
    return zh, en


def test_cq_requires_six_documents_and_jjf_the_same_kinds() -> None:
    assert len(REQUIRED) == 6
    assert tuple(d.kind for d in JJF.required_documents) == REQUIRED


def test_complete_approved_documents_raise_nothing() -> None:
    assert check(docs()) == []


class TestMGT01A:
    def test_missing_document_is_a_nonconformity_of_the_organization(self) -> None:
        [f] = check(docs(tuple(OTHERS)))
        assert (f.code, f.clause, f.severity, f.subject) == (
            "MGT-01-A",
            "6.1",
            "nonconformity",
            "organization",
        )
        assert f.params["kind"] == FIRST and f.evidence == {"kind": FIRST}
        assert f.provisional  # the six document names are provisional in the pack

    @pytest.mark.parametrize("pack", [CQ, JJF], ids=["cq-part1", "jjf2309-2025"])
    def test_no_documents_reports_every_required_kind_once(self, pack: Pack) -> None:
        findings = check((), pack)
        assert [f.params["kind"] for f in findings] == list(REQUIRED)
        assert {(f.code, f.severity) for f in findings} == {("MGT-01-A", "nonconformity")}

    def test_document_of_another_kind_does_not_stand_in(self) -> None:
        [f] = check(
            (*docs(tuple(OTHERS)), Document(kind="fire_safety", title="消防制度", approved=date(2025, 1, 1)))
        )
        assert f.params["kind"] == FIRST

    def test_message_renders_in_zh_and_en(self) -> None:
        [f] = check(docs(tuple(OTHERS)))
        zh, en = rendered(f)
        assert CQ.required_documents[0].zh in zh
        assert CQ.required_documents[0].en in en


class TestMGT01B:
    def draft(self, approved: date | None) -> tuple[Document, ...]:
        return (*docs(tuple(OTHERS)), Document(kind=FIRST, title="碳计量管理制度（草案）", approved=approved))

    def test_unapproved_document_is_a_nonconformity(self) -> None:
        [f] = check(self.draft(None))
        assert (f.code, f.clause, f.severity, f.subject) == ("MGT-01-B", "6.1", "nonconformity", FIRST)
        assert f.params["doc_title"] == "碳计量管理制度（草案）"
        assert f.evidence == {"documents": [{"title": "碳计量管理制度（草案）", "approved": None}]}

    def test_approval_dated_after_as_of_does_not_count(self) -> None:
        [f] = check(self.draft(date(2026, 1, 16)))
        assert f.code == "MGT-01-B"
        assert f.evidence["documents"][0]["approved"] == "2026-01-16"

    def test_approval_dated_on_as_of_counts(self) -> None:
        assert check(self.draft(AS_OF)) == []

    def test_one_approved_version_among_drafts_suffices(self) -> None:
        approved = Document(kind=FIRST, title="碳计量管理制度", approved=date(2025, 1, 1))
        assert check((*self.draft(None), approved)) == []

    def test_message_renders_in_zh_and_en(self) -> None:
        [f] = check(self.draft(None))
        zh, en = rendered(f)
        assert "碳计量管理制度（草案）" in zh and CQ.required_documents[0].zh in zh
        assert "碳计量管理制度（草案）" in en and CQ.required_documents[0].en in en
