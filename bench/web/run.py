"""Web benchmark: the register page and the dashboard of a 10,000-instrument organization under 20 concurrent
clients, against a production-like server (gunicorn, debug off), on SQLite and on PostgreSQL.

One command: ``.venv/bin/python bench/web/run.py`` (installs wrk from Debian's packages if missing).  The
baseline in the same run is Django's stock admin change list of the same instruments.  Figures go to stdout as
a markdown table and to ``bench/out/web/results.json``.

It measures the page, not a redirect: the session cookies are made under the secret key the server runs with;
each page is fetched once before wrk (no redirect followed) and must answer 200 with its marker, a string only
the real page renders; and wrk's script checks every answer the same way.  One non-2xx answer, one page
without its marker or one socket error and the run fails (exit 1) without writing a figure.  The machine is
shared, so the 1-minute load average is recorded before and after every page.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out" / "web"
PY = str(ROOT / ".venv" / "bin" / "python")
#: The secret key of the benchmark server; the cookies are made under the same one (a session signed under
#: another key is not a session, and every request would be a 302 to the login page).
SECRET_KEY = "bench-" + "x" * 50
#: page → (path, whose session, marker: a string only that page renders, with data)
PAGES: dict[str, tuple[str, str, str]] = {
    "dashboard `/`": ("/", "manager", 'class="table table-sm align-middle mb-0 cm-rate-table"'),
    "register `/instruments/` (page 1)": ("/instruments/", "manager", '<th scope="row" class="cm-code">'),
    "register, page 100": ("/instruments/?page=100", "manager", '<th scope="row" class="cm-code">'),
    "register, search + sort": (
        "/instruments/?q=%E8%A5%BF%E9%97%A8%E5%AD%90&sort=-code",  # q=西门子 (a manufacturer: ~1/8 of rows)
        "manager",
        '<th scope="row" class="cm-code">',
    ),
    "baseline: Django admin change list": ("/admin/registry/instrument/", "superuser", 'id="result_list"'),
    "floor: login page (no session, no query)": ("/login/", "", 'type="password"'),
}
BASELINE = "baseline: Django admin change list"
#: The cheapest page the server renders: what the machine allows at that moment, whatever the database.
FLOOR = "floor: login page (no session, no query)"


class BenchError(RuntimeError):
    """The run measured something other than the page: it must fail, and write no figure."""


def sh(cmd: list[str], env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=ROOT, text=True, check=True, capture_output=True, **kw)


def load1() -> float:
    """The 1-minute load average: other agents' tests share these cores, so every figure carries it."""
    return round(os.getloadavg()[0], 2)


def prepare(
    backend: str, plant: Path, pg_url: str, pg_db: str, reuse: bool
) -> tuple[dict[str, str], dict[str, Any]]:
    """The production-like environment and the session cookies; the plant is loaded unless ``reuse`` finds
    it loaded by an earlier run (cookies kept in ``cookies.json`` beside the data)."""
    home = OUT / backend
    saved = home / "cookies.json"
    env = dict(
        os.environ,
        CARBONMETER_HOME=str(home),
        DJANGO_SETTINGS_MODULE="carbonmeter.web.settings",
        CARBONMETER_DEBUG="0",
        CARBONMETER_SECRET_KEY=SECRET_KEY,
        CARBONMETER_ALLOWED_HOSTS="127.0.0.1",
        CARBONMETER_INSECURE_COOKIES="1",
    )
    env.pop("DATABASE_URL", None)
    if backend == "postgresql":
        env["DATABASE_URL"] = f"{pg_url.rsplit('/', 1)[0]}/{pg_db}"
    if reuse and saved.exists():
        sh([PY, "manage.py", "migrate", "-v0"], env)
        return env, json.loads(saved.read_text(encoding="utf-8"))
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    if backend == "postgresql":
        subprocess.run(["psql", pg_url, "-qc", f'DROP DATABASE IF EXISTS "{pg_db}"'], check=True)
        subprocess.run(["psql", pg_url, "-qc", f'CREATE DATABASE "{pg_db}"'], check=True)
    sh([PY, "manage.py", "migrate", "-v0"], env)
    start = time.monotonic()
    out = sh([PY, str(ROOT / "bench" / "web" / "setup_org.py"), str(plant)], env).stdout.splitlines()[-1]
    cookies = json.loads(out)
    saved.write_text(json.dumps(cookies), encoding="utf-8")
    print(
        f"  {backend}: loaded {cookies['rows']:,} rows in {time.monotonic() - start:.0f} s", file=sys.stderr
    )
    return env, cookies


def wait_up(port: int) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise BenchError("server did not start")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kw: Any) -> None:
        return None


def check_page(url: str, cookie: str, marker: str) -> None:
    """One GET, redirects not followed: 200 and the page's marker, or :class:`BenchError`."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"} if cookie else {})
    try:
        with opener.open(request, timeout=60) as answer:
            status, body = answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        raise BenchError(f"{url}: HTTP {e.code} {e.headers.get('Location') or ''}".rstrip()) from None
    if status != 200:
        raise BenchError(f"{url}: HTTP {status}, not the page")
    if marker not in body:
        raise BenchError(f"{url}: HTTP 200 but not the page (no {marker!r} in the answer)")


def wrk(url: str, cookie: str, marker: str, seconds: int, clients: int, timeout: int = 10) -> dict[str, Any]:
    cmd = [
        "wrk",
        "-t2",
        f"-c{clients}",
        f"-d{seconds}s",
        "--timeout",
        f"{timeout}s",
        "-s",
        str(ROOT / "bench" / "web" / "report.lua"),
        *(["-H", f"Cookie: sessionid={cookie}"] if cookie else []),
        url,
        "--",
        marker,
    ]
    out = subprocess.run(cmd, text=True, check=True, capture_output=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    bad = int(result["non2xx"]) + int(result["wrong_page"]) + int(result["errors"])
    if bad or not result["requests"]:
        raise BenchError(
            f"{url}: {result['non2xx']} non-2xx answers, {result['wrong_page']} without the page's marker, "
            f"{result['errors']} socket errors in {result['requests']} requests "
            f"(first: {result['first_bad']})"
        )
    return result


def measure(
    backend: str, plant: Path, a: argparse.Namespace, pg_url: str, port: int
) -> dict[str, dict[str, Any]]:
    env, cookies = prepare(backend, plant, pg_url, a.pg_db, a.reuse)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "carbonmeter.web.wsgi",
            "-w",
            str(a.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_up(port)
        results = {}
        for name, (path, who, marker) in PAGES.items():
            if a.pages and not any(p in name for p in a.pages):
                continue
            url = f"http://127.0.0.1:{port}{path}"
            cookie = cookies[who] if who else ""
            check_page(url, cookie, marker)
            wrk(url, cookie, marker, 2, a.clients, a.timeout)  # warm-up
            before = load1()
            result = wrk(url, cookie, marker, a.seconds, a.clients, a.timeout)
            results[name] = result | {"load1_before": before, "load1_after": load1()}
            print(f"  {backend} {name}: {results[name]}", file=sys.stderr)
        return results
    finally:
        server.terminate()
        server.wait(timeout=20)


def table(figures: dict[str, dict[str, dict[str, Any]]]) -> str:
    """The markdown table of docs/benchmarks.md §2, with each page's p95 as a multiple of the baseline's."""
    lines = [
        "| page | backend | requests/s | p50 ms | p90 ms | p95 ms | p99 ms | p95 / admin | p95 / floor "
        "| load (1 min) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, pages in figures.items():
        base, floor = pages.get(BASELINE), pages.get(FLOOR)
        for name, r in pages.items():
            rate = r["requests"] / r["seconds"]
            ratio = f"{r['p95_ms'] / base['p95_ms']:.2f}×" if base else "–"
            above = f"{r['p95_ms'] / floor['p95_ms']:.1f}×" if floor else "–"
            latency = f"{r['p50_ms']:.0f} | {r['p90_ms']:.0f} | {r['p95_ms']:.0f} | {r['p99_ms']:.0f}"
            load = f"{r['load1_before']:.1f} → {r['load1_after']:.1f}"
            lines.append(f"| {name} | {backend} | {rate:.1f} | {latency} | {ratio} | {above} | {load} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instruments", type=int, default=10_000)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--port", type=int, default=8765, help="the server's port (PostgreSQL's run uses port+1)")
    ap.add_argument("--pg-db", default="carbonmeter_bench", help="PostgreSQL database (dropped and created)")
    ap.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    ap.add_argument("--pages", nargs="*", default=[], help="only the pages whose name contains one of these")
    ap.add_argument("--reuse", action="store_true", help="keep a plant an earlier run loaded (same code)")
    ap.add_argument("--timeout", type=int, default=10, help="seconds before wrk counts a request as failed")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    plant = OUT / "plant.json"
    n = a.instruments
    subprocess.run(
        [
            PY,
            str(ROOT / "bench" / "make_synthetic_plant.py"),
            str(plant),
            "--instruments",
            str(n),
            "--streams",
            str(n // 10),
            "--points",
            str(n * 6 // 10),
            "--calibrations",
            str(n * 3),
        ],
        check=True,
        capture_output=True,
    )
    pg_url = ""
    if "postgresql" in a.backends:
        services = subprocess.run(
            [str(ROOT / "scripts" / "services")], text=True, check=True, capture_output=True
        )
        pg_url = services.stdout.strip()
    try:
        figures = {
            b: measure(b, plant, a, pg_url, a.port + i)
            for i, b in enumerate(("sqlite", "postgresql"))
            if b in a.backends
        }
    except BenchError as e:
        print(f"FAILED, no figures written: {e}", file=sys.stderr)
        return 1
    (OUT / "results.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")
    print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
