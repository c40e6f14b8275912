"""The English interface: zh-Hans is the source language of every string, English comes from the catalogue
``src/carbonmeter/web/locale/en/LC_MESSAGES/django.po`` (compiled to ``django.mo``).

The pages are asked for with the language the switch in the navbar sets (``set_language`` → the language
cookie) and must show the translated labels and none of the Chinese ones; without it they stay Chinese.
The catalogue itself must be complete: no entry without a translation, none marked fuzzy, the compiled
``.mo`` in step with the ``.po``.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.web.conftest import login

LOCALE = Path(__file__).parents[2] / "src" / "carbonmeter" / "web" / "locale"
PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
MO = LOCALE / "en" / "LC_MESSAGES" / "django.mo"


@pytest.fixture(autouse=True)
def keep_language() -> Iterator[None]:
    """A request in English leaves English active in the thread; later tests must start in the default."""
    before = translation.get_language()
    yield
    translation.activate(before or settings.LANGUAGE_CODE)


def english(client: Client) -> Client:
    """Switch the client to English the way the navbar does: POST to set_language, which sets the cookie."""
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    return client


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


# --------------------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------------------


def test_login_page_in_english(client: Client, db: Any) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = page(client, reverse("login"))
    assert '<html lang="en">' in html
    for text in (
        "Log in",
        "Username",
        "Password",
        "Carbon Measuring Instrument Equipping and Management System",
    ):
        assert text in html
    for text in ("登录", "用户名", "密码", "碳计量器具配备与管理系统"):
        assert text not in html


def test_login_page_in_chinese_by_default(client: Client, db: Any) -> None:
    html = page(client, reverse("login"))
    assert '<html lang="zh-CN">' in html
    for text in ("登录", "用户名", "密码", "碳计量器具配备与管理系统"):
        assert text in html
    for text in ("Log in", "Username", "Password"):
        assert text not in html


def test_dashboard_in_english(client: Client, users: dict[str, Any]) -> None:
    html = page(english(login(client, users["admin_a"])), "/")
    for text in (
        "Dashboard",
        "Instrument register",
        "Source streams and monitoring plan",
        "Verification/calibration due dates of instruments in use",
        "Overdue",
        "Due within 30 days",
        "Log out",
    ):
        assert text in html, text
    for text in ("仪表盘", "计量器具一览表", "在用器具检定/校准到期情况", "已过期", "退出登录"):
        assert text not in html, text


def test_dashboard_in_chinese(client: Client, users: dict[str, Any]) -> None:
    html = page(login(client, users["admin_a"]), "/")
    for text in ("仪表盘", "计量器具一览表", "在用器具检定/校准到期情况", "已过期", "退出登录"):
        assert text in html, text
    for text in ("Dashboard", "Instrument register", "Overdue", "Log out"):
        assert text not in html, text


def test_register_in_english(client: Client, users: dict[str, Any]) -> None:
    html = page(english(login(client, users["admin_a"])), "/instruments/")
    for text in (
        "Instrument register",
        "Annex B, Table B.1",
        "Instrument name",
        "Serial no.",
        "Asset no.",
        "Accuracy class",
        "Valid until",
        "All statuses",
        "Clear filters",
        "Print label",
    ):
        assert text in html, text
    assert re.search(r"\d+ instruments", html)
    for text in (
        "碳计量器具一览表",
        "器具名称",
        "出厂编号",
        "管理编号",
        "准确度等级",
        "清除筛选",
        "打印标识",
    ):
        assert text not in html, text


def test_register_in_chinese(client: Client, users: dict[str, Any]) -> None:
    html = page(login(client, users["admin_a"]), "/instruments/")
    for text in ("碳计量器具一览表", "器具名称", "出厂编号", "管理编号", "清除筛选"):
        assert text in html, text
    assert re.search(r"共 \d+ 台器具", html)
    for text in ("Instrument register", "Serial no.", "Asset no.", "Clear filters"):
        assert text not in html, text


def test_switching_back_to_chinese(client: Client, users: dict[str, Any]) -> None:
    english(login(client, users["admin_a"]))
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = page(client, "/instruments/")
    assert "出厂编号" in html and "Serial no." not in html


# --------------------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------------------


def _unquote(s: str) -> str:
    s = s.strip()
    assert s.startswith('"') and s.endswith('"'), s
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), s[1:-1])


def po_entries() -> list[dict[str, Any]]:
    """The live (not obsolete) entries of the .po, each {"flags", "msgid", "msgid_plural"?, "msgstr…"}."""
    entries = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith("#~")]
        entry: dict[str, Any] = {"flags": set()}
        key = None
        for line in lines:
            if line.startswith("#,"):
                entry["flags"] |= {f.strip() for f in line[2:].split(",")}
            elif m := re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$", line):
                key = m[1]
                entry[key] = _unquote(m[2])
            elif line.startswith('"') and key:
                entry[key] += _unquote(line)
        if "msgid" in entry:
            entries.append(entry)
    return entries


def test_catalogue_is_complete_and_not_fuzzy() -> None:
    entries = po_entries()
    header = next(e for e in entries if e["msgid"] == "")
    assert "fuzzy" not in header["flags"]
    assert "Language: en\n" in header["msgstr"]
    messages = [e for e in entries if e["msgid"]]
    assert len(messages) > 300
    fuzzy = [e["msgid"] for e in messages if "fuzzy" in e["flags"]]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    untranslated = [
        e["msgid"] for e in messages if not all(v for k, v in e.items() if k.startswith("msgstr"))
    ]
    assert not untranslated, f"untranslated entries: {untranslated}"


def test_translations_keep_the_placeholders_and_are_english() -> None:
    placeholder = re.compile(r"%(?:\(\w+\))?[sd]|%%|\{\w*\}")
    for e in po_entries():
        if not e["msgid"]:
            continue
        wanted = sorted(placeholder.findall(e["msgid"]))
        for key, value in e.items():
            if key.startswith("msgstr"):
                assert sorted(placeholder.findall(value)) == wanted, (e["msgid"], value)
                assert not re.search(r"[\u4e00-\u9fff]", value), f"Chinese left in {e['msgid']!r}: {value!r}"


def test_compiled_catalogue_matches_the_po() -> None:
    """The .mo Django reads at run time says what the .po says (it was compiled after the last edit)."""
    with MO.open("rb") as f:
        mo = gettext.GNUTranslations(f)
    for e in po_entries():
        if not e["msgid"] or "msgctxt" in e:
            continue
        if "msgid_plural" in e:
            assert mo.ngettext(e["msgid"], e["msgid_plural"], 1) == e["msgstr[0]"], e["msgid"]
            assert mo.ngettext(e["msgid"], e["msgid_plural"], 2) == e["msgstr[1]"], e["msgid"]
        else:
            assert mo.gettext(e["msgid"]) == e["msgstr"], e["msgid"]


def test_glossary_terms() -> None:
    """A few terms fixed by the project's glossary (docs: /work/shared/spec/glossary.md)."""
    got = {e["msgid"]: e.get("msgstr") for e in po_entries()}
    for zh, en in {
        "碳源流": "Source stream",
        "配备率": "Equipping rate",
        "计量点": "Measuring point",
        "不符合项": "Nonconformities",
        "观察项": "Observations",
        "核查人员": "Verifier",
        "监管人员": "Regulator",
        "碳计量器具一览表": "Instrument register",
        "规则包": "Rule pack",
        "管理制度": "Management document",
    }.items():
        assert got[zh] == en, zh
