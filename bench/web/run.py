"""Web benchmark: the register page and the dashboard of a 10,000-instrument organization under 20 concurrent
clients, against a production-like server (gunicorn, debug off), on SQLite and on PostgreSQL.

One command: ``.venv/bin/python bench/web/run.py`` (installs wrk from Debian's packages if missing).  The
baseline in the same run is Django's stock admin change list of the same instruments.  Figures go to stdout as
a markdown table and to ``bench/out/web/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out" / "web"
PY = str(ROOT / ".venv" / "bin" / "python")
PAGES = {
    "dashboard `/`": ("/", "manager"),
    "register `/instruments/` (page 1)": ("/instruments/", "manager"),
    "register, page 100": ("/instruments/?page=100", "manager"),
    "register, search + sort": ("/instruments/?q=meter&sort=-code", "manager"),
    "baseline: Django admin change list": ("/admin/registry/instrument/", "superuser"),
}


def sh(cmd: list[str], env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=ROOT, text=True, check=True, capture_output=True, **kw)  # type: ignore[call-overload]


def prepare(backend: str, plant: Path, pg_url: str) -> tuple[dict[str, str], dict[str, str]]:
    home = OUT / backend
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = dict(
        os.environ,
        CARBONMETER_HOME=str(home),
        CARBONMETER_DEBUG="1",
        DJANGO_SETTINGS_MODULE="carbonmeter.web.settings",
    )
    env.pop("DATABASE_URL", None)
    if backend == "postgresql":
        base = pg_url.rsplit("/", 1)[0]
        subprocess.run(["psql", pg_url, "-qc", "DROP DATABASE IF EXISTS carbonmeter_bench"], check=True)
        subprocess.run(["psql", pg_url, "-qc", "CREATE DATABASE carbonmeter_bench"], check=True)
        env["DATABASE_URL"] = f"{base}/carbonmeter_bench"
    sh([PY, "manage.py", "migrate", "-v0"], env)
    start = time.monotonic()
    cookies = json.loads(
        sh([PY, str(ROOT / "bench" / "web" / "setup_org.py"), str(plant)], env).stdout.splitlines()[-1]
    )
    print(
        f"  {backend}: loaded {cookies['rows']:,} rows in {time.monotonic() - start:.0f} s", file=sys.stderr
    )
    prod = dict(
        env,
        CARBONMETER_DEBUG="0",
        CARBONMETER_SECRET_KEY="bench-" + "x" * 50,
        CARBONMETER_ALLOWED_HOSTS="127.0.0.1",
        CARBONMETER_INSECURE_COOKIES="1",
    )
    return prod, cookies


def wait_up(port: int) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def wrk(url: str, cookie: str, seconds: int, clients: int) -> dict[str, float]:
    cmd = [
        "wrk",
        "-t2",
        f"-c{clients}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "bench" / "web" / "report.lua"),
        "-H",
        f"Cookie: sessionid={cookie}",
        url,
    ]
    out = subprocess.run(cmd, text=True, check=True, capture_output=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(
    backend: str, plant: Path, pg_url: str, seconds: int, clients: int, workers: int
) -> dict[str, dict[str, float]]:
    env, cookies = prepare(backend, plant, pg_url)
    port = 8765
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "carbonmeter.web.wsgi",
            "-w",
            str(workers),
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
        for name, (path, who) in PAGES.items():
            url = f"http://127.0.0.1:{port}{path}"
            wrk(url, cookies[who], 2, clients)  # warm-up
            results[name] = wrk(url, cookies[who], seconds, clients)
            print(f"  {backend} {name}: {results[name]}", file=sys.stderr)
        return results
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--instruments", type=int, default=10_000)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--workers", type=int, default=4)
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
    pg_url = subprocess.run(
        [str(ROOT / "scripts" / "services")], text=True, check=True, capture_output=True
    ).stdout.strip()
    figures = {
        b: measure(b, plant, pg_url, a.seconds, a.clients, a.workers) for b in ("sqlite", "postgresql")
    }
    (OUT / "results.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")
    print("| page | backend | requests/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for backend, pages in figures.items():
        for name, r in pages.items():
            rate = r["requests"] / r["seconds"]
            errors = int(r["errors"] + r["non2xx"])
            latency = f"{r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['p99_ms']:.0f}"
            print(f"| {name} | {backend} | {rate:.1f} | {latency} | {errors} |")


if __name__ == "__main__":
    main()
