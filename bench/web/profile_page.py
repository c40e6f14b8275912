"""Profile one page of the web benchmark's plant in process: its SQL (count, time, the slowest statements) and
where the Python time goes (cProfile, by cumulative time).

``.venv/bin/python bench/web/profile_page.py sqlite|postgresql PATH [--user manager|superuser] [--n 5]``

Run ``bench/web/run.py`` once first: this reads the plant it loaded (``bench/out/web/<backend>/``, and for
PostgreSQL ``--pg-db``), so the figures are of the same 10,000 instruments the benchmark measures.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("backend", choices=["sqlite", "postgresql"])
    ap.add_argument("path")
    ap.add_argument("--user", default="manager", choices=["manager", "superuser"])
    ap.add_argument("--n", type=int, default=5, help="requests profiled (after one warm-up)")
    ap.add_argument("--top", type=int, default=35)
    ap.add_argument("--pg-db", default="carbonmeter_bench")
    ap.add_argument("--sort", default="cumulative", help="pstats order: cumulative or tottime")
    a = ap.parse_args()
    os.environ["CARBONMETER_HOME"] = str(ROOT / "bench" / "out" / "web" / a.backend)
    os.environ["DJANGO_SETTINGS_MODULE"] = "carbonmeter.web.settings"
    os.environ.setdefault("CARBONMETER_SECRET_KEY", "bench-profile-" + "x" * 40)
    os.environ["CARBONMETER_ALLOWED_HOSTS"] = "testserver"
    os.environ.pop("DATABASE_URL", None)
    if a.backend == "postgresql":
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{a.pg_db}"

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(
        get_user_model().objects.get(username=f"bench-{'root' if a.user == 'superuser' else a.user}")
    )
    first = client.get(a.path)
    print(f"{a.path}: HTTP {first.status_code}, {len(first.content):,} bytes", file=sys.stderr)
    if first.status_code != 200:
        sys.exit(1)
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        client.get(a.path)
        wall = time.perf_counter() - start
    sql_s = sum(float(q["time"]) for q in queries.captured_queries)
    print(f"one request: {wall * 1000:.0f} ms wall, {len(queries)} queries, {sql_s * 1000:.0f} ms in SQL")
    for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:8]:
        print(f"  {float(q['time']) * 1000:7.1f} ms  {q['sql'][:300]}")
    # Wall time depends on the machine's load; the CPU time of this process (the Python side of a request,
    # not the database server's) and the number of function calls much less.
    times, cpu = [], []
    for _ in range(max(a.n, 5)):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(a.path)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    times.sort()
    cpu.sort()
    print(
        f"{len(times)} requests without the profiler: wall median {times[len(times) // 2] * 1000:.1f} ms, "
        f"fastest {times[0] * 1000:.1f} ms; CPU (this process) median {cpu[len(cpu) // 2] * 1000:.1f} ms"
    )
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(a.n):
        client.get(a.path)
    profile.disable()
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    print(f"function calls per request (cProfile): {stats.total_calls / a.n:,.0f}")  # type: ignore[attr-defined]
    stats.sort_stats(a.sort).print_stats(a.top)
    print(text.getvalue())


if __name__ == "__main__":
    main()
