"""The web benchmark's harness fails on anything but the page (issue 9, item 6).

Its first version measured 302s to the login page and reported "0 errors": the cookies were made under
another secret key, and ``report.lua`` counted non-2xx answers in a per-thread variable that ``done()``
never sees.  These tests drive the real wrk with the real script against a tiny local server that answers a
redirect, a page without the marker (the login page) and the page itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from bench.web import run as web_bench

MARKER = '<th scope="row" class="cm-code">'


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/login/?next=/instruments/")
            body = b""
        else:
            self.send_response(200)
            body = b"<html>login form</html>" if self.path.startswith("/login") else f"<tr>{MARKER}".encode()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_wrk_counts_every_redirect_across_threads(server: str) -> None:
    with pytest.raises(web_bench.BenchError, match=r"[1-9]\d* non-2xx answers.*first: HTTP 302 /login/"):
        web_bench.wrk(f"{server}/redirect", "x", MARKER, 1, 4)


def test_wrk_fails_on_a_200_that_is_not_the_page(server: str) -> None:
    with pytest.raises(web_bench.BenchError, match=r"0 non-2xx answers, [1-9]\d* without the page's marker"):
        web_bench.wrk(f"{server}/login/", "x", MARKER, 1, 4)


def test_wrk_passes_the_page_and_counts_requests_of_both_threads(server: str) -> None:
    result = web_bench.wrk(f"{server}/instruments/", "x", MARKER, 1, 4)
    assert result["requests"] > 0
    assert result["non2xx"] == result["wrong_page"] == result["errors"] == 0
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["max_ms"]


def test_the_check_before_wrk_follows_no_redirect(server: str) -> None:
    with pytest.raises(web_bench.BenchError, match="HTTP 302 /login/"):
        web_bench.check_page(f"{server}/redirect", "x", MARKER)
    with pytest.raises(web_bench.BenchError, match="not the page"):
        web_bench.check_page(f"{server}/login/", "x", MARKER)
    web_bench.check_page(f"{server}/instruments/", "x", MARKER)
