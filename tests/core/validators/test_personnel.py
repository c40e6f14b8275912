"""MGT-02 (6.2, 持证上岗): a person answers for carbon metering and holds a valid certificate.

``-A`` nobody is named responsible; ``-B`` no responsible person holds a certificate valid on the assessment
date; ``-C`` (observation) someone's certificate has expired.  A certificate valid until the assessment date
is still valid on it.
"""

from __future__ import annotations

from datetime import date

from carbonmeter.core.facts import establish
from carbonmeter.core.findings import Finding
from carbonmeter.core.snapshot import Certificate, Person
from carbonmeter.core.validators import personnel
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.messages import render
from carbonmeter.rules.schema import Pack
from tests.builders import AS_OF, responsible_person, snapshot

CQ = load_pack("cq-part1")
JJF = load_pack("jjf2309-2025")
EXPIRED = date(2026, 1, 14)  # the day before as_of


def person(name: str, *valid_until: date | None, responsible: bool = False) -> Person:
    certs = tuple(Certificate(name=f"证书{k}", valid_until=v) for k, v in enumerate(valid_until, 1))
    return Person(name=name, role="计量员", responsible=responsible, certificates=certs)


def check(*people: Person, pack: Pack = CQ) -> list[Finding]:
    snap = snapshot(personnel=people)
    return personnel.check(establish(snap, pack, snap.as_of))


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def rendered(f: Finding) -> tuple[str, str]:
    zh, en = render(f.code, f.params, "zh"), render(f.code, f.params, "en")
    assert "{" not in zh + en
    return zh, en


def test_certified_responsible_person_raises_nothing() -> None:
    assert check(responsible_person()) == []


class TestMGT02A:
    def test_nobody_responsible_is_a_nonconformity_of_the_organization(self) -> None:
        [f] = check(person("李四", date(2027, 1, 1)))
        assert (f.code, f.clause, f.severity, f.subject) == (
            "MGT-02-A",
            "6.2",
            "nonconformity",
            "organization",
        )
        assert f.evidence == {"personnel": ["李四"]}

    def test_no_personnel_at_all_is_a_nonconformity(self) -> None:
        assert codes(check()) == ["MGT-02-A"]

    def test_same_under_jjf(self) -> None:
        [f] = check(pack=JJF)
        assert (f.code, f.clause, f.severity) == ("MGT-02-A", "6.2", "nonconformity")

    def test_message_renders_in_zh_and_en(self) -> None:
        zh, en = rendered(check()[0])
        assert zh and en


class TestMGT02B:
    def test_responsible_person_with_only_an_expired_certificate(self) -> None:
        findings = check(person("张伟", EXPIRED, responsible=True))
        assert codes(findings) == ["MGT-02-B", "MGT-02-C"]
        f = findings[0]
        assert (f.clause, f.severity, f.subject) == ("6.2", "nonconformity", "张伟")
        assert f.evidence == {"certificates": [{"name": "证书1", "valid_until": "2026-01-14"}]}

    def test_responsible_person_without_certificates(self) -> None:
        [f] = check(person("张伟", responsible=True))
        assert (f.code, f.subject) == ("MGT-02-B", "张伟")

    def test_certificate_valid_until_as_of_is_still_valid(self) -> None:
        assert check(person("张伟", AS_OF, responsible=True)) == []

    def test_certificate_without_end_date_stays_valid(self) -> None:
        assert check(person("张伟", None, responsible=True)) == []

    def test_one_valid_certificate_among_expired_ones_suffices_for_the_person(self) -> None:
        assert codes(check(person("张伟", EXPIRED, date(2027, 1, 1), responsible=True))) == ["MGT-02-C"]

    def test_certified_colleague_does_not_stand_in_for_the_responsible_person(self) -> None:
        findings = check(person("张伟", responsible=True), person("李四", date(2027, 1, 1)))
        assert codes(findings) == ["MGT-02-B"] and findings[0].subject == "张伟"

    def test_one_certified_responsible_person_suffices(self) -> None:
        assert (
            check(person("张伟", responsible=True), person("王芳", date(2027, 1, 1), responsible=True)) == []
        )

    def test_message_renders_in_zh_and_en(self) -> None:
        zh, en = rendered(check(person("张伟", responsible=True))[0])
        assert "张伟" in zh and "张伟" in en


class TestMGT02C:
    def test_expired_certificate_of_anyone_is_an_observation(self) -> None:
        findings = check(responsible_person(), person("李四", EXPIRED))
        [f] = findings
        assert (f.code, f.clause, f.severity, f.subject) == ("MGT-02-C", "6.2", "observation", "李四")
        assert (f.params["certificate"], f.params["valid_until"]) == ("证书1", "2026-01-14")
        assert f.evidence == {"certificate": {"name": "证书1", "valid_until": "2026-01-14"}}

    def test_each_expired_certificate_is_reported(self) -> None:
        findings = check(responsible_person(), person("李四", EXPIRED, date(2025, 6, 30), date(2027, 1, 1)))
        assert [(f.code, f.params["certificate"]) for f in findings] == [
            ("MGT-02-C", "证书1"),
            ("MGT-02-C", "证书2"),
        ]

    def test_certificate_valid_on_as_of_is_not_reported(self) -> None:
        assert check(responsible_person(), person("李四", AS_OF)) == []

    def test_message_renders_in_zh_and_en(self) -> None:
        zh, en = rendered(check(responsible_person(), person("李四", EXPIRED))[0])
        assert "李四" in zh and "证书1" in zh and "2026-01-14" in zh
        assert "李四" in en and "证书1" in en and "2026-01-14" in en
