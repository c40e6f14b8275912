"""Crawl of the demo (issue 9, item 1): the links a demo user can follow, as every demo role and in both
languages, answer without a server error and none leads to a 4xx; on the Chinese pages no internal code (an
enumeration value, a quantity, unit or pack code), no developer English and no untranslated template text
reaches the reader.

The demo is what ``manage.py load_demo`` leaves (the command itself: dated to today, with its month of
metering data, in a temporary lake), loaded once for the module in a transaction rolled back at the end.

Bounded, so it runs in every ``scripts/test`` on both databases: the manager's crawl in Chinese follows
every link (every instrument, label, point, run and quality page, every month the pages link within the
demo's months); the other crawls visit every kind of page (every URL route) the role can reach, one
instance of each.  Downloads (workbooks, JSON, stored files) are fetched in the full crawl only.  A query
string is followed when it sets a parameter value not yet seen on that route (so every sort, filter and
page of the register, not their products).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from carbonmeter.web.assessment.management.commands.load_demo import DEMO_PASSWORD, DEMO_USERS
from carbonmeter.web.readings.demo_loader import previous_month
from tests.web.terms_check import chinese_text_problems

ROLES = tuple(username for username, _, _ in DEMO_USERS)
#: The crawl that follows every link; the others visit each route once (SAMPLE instances, SAMPLE values
#: of each query parameter).
FULL = ("manager", "zh-hans")
SAMPLE = 1
#: Distinct values of one query parameter followed on one route (the register has 13 sort keys).
VALUES_PER_PARAMETER = 16
#: Never followed: state changes (logout), Django's admin (its own UI), static files, the language switch.
SKIP = re.compile(r"^/(logout|static|media|admin|i18n)/")
DOWNLOAD = re.compile(r"\.(xlsx|json|csv|pdf)$|/file/$|/archive/\d+/$|/certificates/\d+/$")
MONTH = re.compile(r"^\d{4}-\d{2}$")
TEMPLATE_TEXT = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")


# --- the crawler ----------------------------------------------------------------------------------------


class Page(HTMLParser):
    """A page's same-site GET targets (``<a href>``, ``hx-get``) and the text a reader sees or hears
    (text outside scripts and styles, titles, placeholders, labels for screen readers), as (text, is code)
    pairs: text inside ``<code>``/``<kbd>``/``<samp>`` is a command or a name to type, not prose.

    An element marked ``data-verbatim`` shows data as it was received (a quarantined row's cells) and is not
    read: those are the user's own bytes.  A finding's evidence is read like any text.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.text: list[tuple[str, bool]] = []
        self._hidden = 0
        self._code = 0
        self._verbatim: list[str] = []  # the verbatim element's tag, once per open element of that tag

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if a.get("hx-get"):
            self.links.append(a["hx-get"])
        if self._verbatim:
            if tag == self._verbatim[0]:
                self._verbatim.append(tag)
            return
        if "data-verbatim" in a:
            self._verbatim.append(tag)
            return
        self._hidden += tag in ("script", "style")
        self._code += tag in ("code", "kbd", "samp")
        self.text += [(a[k], False) for k in ("title", "placeholder", "aria-label", "alt") if a.get(k)]

    def handle_endtag(self, tag: str) -> None:
        if self._verbatim:
            if tag == self._verbatim[0]:
                self._verbatim.pop()
            return
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1
        if tag in ("code", "kbd", "samp") and self._code:
            self._code -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and not self._verbatim and data.strip():
            self.text.append((data.strip(), self._code > 0))


@dataclass
class Crawl:
    client: Client
    role: str
    language: str
    months: frozenset[str]
    full: bool
    visited: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    _queue: deque[tuple[str, str]] = field(default_factory=deque)
    _seen: set[str] = field(default_factory=set)
    _paths: dict[str, set[str]] = field(default_factory=dict)
    _values: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def problem(self, url: str, what: str) -> None:
        self.problems.append(f"[{self.role}, {self.language}] {url}: {what}")

    def offer(self, url: str, source: str) -> None:
        """Queue ``url`` (found on ``source``) if the crawl's bounds let it in."""
        parts = urlsplit(urldefrag(urljoin(source, url))[0])
        if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
            return
        pairs = sorted((k, v) for k, v in parse_qsl(parts.query) if k != "next")
        target = parts.path + (f"?{urlencode(pairs)}" if pairs else "")
        if target in self._seen or SKIP.search(parts.path):
            return
        if DOWNLOAD.search(parts.path) and not self.full:
            return
        if any(MONTH.fullmatch(v) and v not in self.months for _, v in pairs):
            return  # months the demo has no data for: the month links walk on forever
        try:
            route = resolve(parts.path).route
        except Resolver404:
            route = parts.path  # visited, and reported as the 404 it is
        paths = self._paths.setdefault(route, set())
        if parts.path not in paths:
            if not self.full and len(paths) >= SAMPLE:
                return
            paths.add(parts.path)
        else:
            fresh = [
                (k, v)
                for k, v in pairs
                if v not in (seen := self._values.setdefault((route, k), set()))
                and len(seen) < (VALUES_PER_PARAMETER if self.full else SAMPLE)
            ]
            if not fresh:
                return
        for k, v in pairs:
            self._values.setdefault((route, k), set()).add(v)
        self._seen.add(target)
        self._queue.append((target, source))

    def run(self) -> Crawl:
        self.offer("/", "/")
        while self._queue:
            url, source = self._queue.popleft()
            response = self.client.get(url)
            self.visited[url] = response.status_code
            linked = f"(linked from {source})"
            if response.status_code >= 400:
                self.problem(url, f"HTTP {response.status_code} {linked}")
            elif response.status_code in (301, 302):
                target = urljoin(url, response["Location"])
                if urlsplit(target).path == reverse("login"):
                    self.problem(url, f"sends a signed-in user to the login page {linked}")
                else:
                    self.offer(target, url)
            elif response.get("Content-Type", "").startswith("text/html"):
                page = Page()
                page.feed(response.content.decode())
                self.read(url, page.text)
                for link in page.links:
                    self.offer(link, url)
        return self

    def read(self, url: str, text: list[tuple[str, bool]]) -> None:
        """The checks of a page's text: template text on every page; on the Chinese ones, codes and prose
        (an English page legitimately reads "pressure" or "class")."""
        for line, is_code in text:
            if TEMPLATE_TEXT.search(line):
                self.problem(url, f"template text in “{line[:160]}”")
            if self.language == "en":
                continue
            for problem in chinese_text_problems(line, prose=not is_code):
                self.problem(url, problem)


def demo_months(today: date) -> frozenset[str]:
    """The months the demo's pages are about: its month of readings and the current month."""
    return frozenset({f"{previous_month(today):%Y-%m}", f"{today:%Y-%m}"})


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_every_link_of_the_demo_answers_and_reads_without_codes(
    demo: None, db: Any, role: str, language: str
) -> None:
    client = Client()
    assert client.login(username=role, password=DEMO_PASSWORD)
    if language == "en":  # the navbar's switch
        assert client.post(reverse("set_language"), {"language": "en", "next": "/"}).status_code == 302
    crawl = Crawl(client, role, language, demo_months(timezone.localdate()), (role, language) == FULL).run()
    assert len(crawl.visited) > 20, crawl.visited  # it did crawl
    problems = list(dict.fromkeys(crawl.problems))
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])
