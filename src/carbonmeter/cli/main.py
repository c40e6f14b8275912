"""``carbonmeter``: assess a plant snapshot file, list and show rule packs, convert snapshots; ingest
metering data and check the data ledger.

``assess``, ``rules`` and ``convert`` work on files alone, with no database.  Exit status (contract §1):
0 assessed, whatever the verdict; 2 invalid input, one located line per problem on stderr and nothing on
stdout; 1 internal error.

``ingest`` and ``ledger`` work on the installation's database and lake: they set Django up when they run
(``DJANGO_SETTINGS_MODULE``, default ``carbonmeter.web.settings``), so the file commands stay Django-free.
``ingest`` exits 1 when any row was quarantined, ``ledger verify`` exits 1 on any problem (a head it no
longer reaches included), ``ledger recover`` lists the runs whose source file is missing or cut short, and
they exit 2 for input they cannot act on (unknown organization or user, unreadable file, a refused archive).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from carbonmeter.io.problems import SnapshotError
from carbonmeter.readings.ledger import HEX64
from carbonmeter.rules.loader import DEFAULT_PACK, PackError

EXIT_INVALID = 2


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from exc


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="carbonmeter", description="碳计量器具配备与管理 — carbon metering checks"
    )
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("assess", help="judge a plant snapshot (.json or .xlsx) clause by clause")
    a.add_argument("input", type=Path)
    a.add_argument(
        "--profile",
        default=None,
        help="rule pack: id, id@version or a pack.yaml path (default: the organization's industry part, "
        f"e.g. cement → cq-part2-cement, else {DEFAULT_PACK})",
    )
    a.add_argument("--as-of", type=_iso_date, help="judge validity at this date instead of the snapshot's")
    a.add_argument("--format", choices=("json", "text", "xlsx"), default="text")
    a.add_argument(
        "--monte-carlo",
        type=_draws,
        metavar="N",
        help="check the plant total's U95 by a JCGM 101 Monte Carlo simulation of N draws (e.g. 1000000)",
    )
    a.add_argument("-o", "--output", type=Path, help="write here instead of stdout (required for xlsx)")

    r = sub.add_parser("rules", help="list or show rule packs")
    rsub = r.add_subparsers(dest="rules_command", required=True)
    rsub.add_parser("list", help="built-in packs with id, version and provenance of their values")
    show = rsub.add_parser("show", help="every table of a pack, each value with its provenance tag")
    show.add_argument("pack", help="id, id@version or a pack.yaml path")

    c = sub.add_parser(
        "convert", help="convert a snapshot between JSON and XLSX (Table B.1 register included)"
    )
    c.add_argument("input", type=Path)
    c.add_argument("output", type=Path)

    i = sub.add_parser(
        "ingest", help="validate a readings file and store it as one batch (needs the database)"
    )
    i.add_argument("file", type=Path, help=".csv, .xlsx, .parquet or .json")
    i.add_argument("--org", required=True, metavar="CREDIT_CODE", help="the organization's credit code")
    i.add_argument("--user", metavar="NAME", help="the submitting user's username")
    i.add_argument("--source", default="cli", help="how the data came in (default: cli)")
    i.add_argument("--corrects", type=int, metavar="SEQ", help="make a correction of this batch")
    i.add_argument("--reason", default="", help="why (required with --corrects)")
    i.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the report")

    q = sub.add_parser(
        "quality",
        help="data quality of one point's month from the lake alone (no database): availability, gaps, "
        "substitution, totalizer day totals, as JSON",
    )
    q.add_argument("--lake", type=Path, required=True, help="the readings lake folder")
    q.add_argument("--org", required=True, help="organization credit code (the lake's org= folder)")
    q.add_argument("--point", required=True)
    q.add_argument("--quantity", required=True, help="quantity code, e.g. consumption_mass")
    q.add_argument("--month", type=_year_month, required=True, help="YYYY-MM")
    q.add_argument("--interval", type=int, default=None, help="expected interval in seconds")
    q.add_argument("--substitution", default="none", help="substitution rule (default: none)")
    q.add_argument("--modulus", type=float, default=None, help="totalizer rollover modulus")
    q.add_argument("--pack", default=DEFAULT_PACK, help="rule pack (the totalizer wrap share)")
    g = sub.add_parser("ledger", help="verify or archive the data ledger (needs the database)")
    gsub = g.add_subparsers(dest="ledger_command", required=True)
    v = gsub.add_parser("verify", help="recompute every file hash, batch content hash and the chain")
    v.add_argument("--archive", type=Path, metavar="DIR", help="verify an archive export instead of the lake")
    v.add_argument(
        "--expect-head",
        type=_hex64,
        metavar="HEX",
        help="a chain head recorded elsewhere (an ingest report, the ledger page): the ledger must reach it",
    )
    gsub.add_parser(
        "anchor", help="append the current chain head to the lake's anchor file (after a passing verify)"
    )
    ar = gsub.add_parser("archive", help="export months older than the retention period to DIR")
    ar.add_argument("--before", required=True, type=_year_month, metavar="YYYY-MM")
    ar.add_argument("--to", required=True, type=Path, metavar="DIR")
    ar.add_argument("--user", metavar="NAME", help="the archiving user's username")
    gsub.add_parser("recover", help="finish or undo publications a crash interrupted")
    return p


def _draws(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 2 <= n <= 100_000_000:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number of draws from 2 to 100000000 / 抽样次数")
    return n


def _hex64(text: str) -> str:
    value = text.strip().lower()
    if not HEX64.fullmatch(value):
        raise argparse.ArgumentTypeError(f"not a chain hash (64 hex digits): {text[:80]!r}")
    return value


def _year_month(text: str) -> tuple[int, int]:
    try:
        parsed = date.fromisoformat(f"{text}-01")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a month (YYYY-MM): {text!r}") from exc
    return parsed.year, parsed.month


class _Refused(Exception):
    """Input the database commands cannot act on: printed, exit 2."""


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carbonmeter.web.settings")
    import django

    django.setup()


def _user(name: str | None) -> Any:
    if name is None:
        return None
    from django.contrib.auth import get_user_model

    model = get_user_model()
    try:
        return model.objects.get(**{model.USERNAME_FIELD: name})
    except model.DoesNotExist as exc:
        raise _Refused(f"carbonmeter: no user named {name!r}") from exc


def _ingest(args: argparse.Namespace) -> int:
    _setup_django()
    from carbonmeter.readings.ingest import IngestError, render_report
    from carbonmeter.readings.model import Quarantine
    from carbonmeter.web.readings import services
    from carbonmeter.web.readings.models import QuarantinedRow, ReadingBatch
    from carbonmeter.web.registry.models import Organization

    org = Organization.objects.filter(credit_code=args.org).first()
    if org is None:
        raise _Refused(f"carbonmeter: no organization with credit code {args.org!r}")
    user = _user(args.user)
    corrects = None
    if args.corrects is not None:
        corrects = ReadingBatch.objects.filter(organization=org, seq=args.corrects).first()
        if corrects is None:
            raise _Refused(f"carbonmeter: batch #{args.corrects} is not one of {args.org}'s")
    services.recover()
    try:
        run = services.ingest(
            org,
            source=args.source,
            path=args.file,
            filename=args.file.name,
            user=user,
            corrects=corrects,
            reason=args.reason,
        )
    except IngestError as exc:
        raise _Refused(f"carbonmeter: {exc.message(args.lang)}") from exc
    except ValueError as exc:
        raise _Refused(f"carbonmeter: {exc}") from exc
    quarantined = [
        Quarantine(run.filename, q.sheet, q.row, q.column, q.code, q.variant, q.params, q.raw)
        for q in QuarantinedRow.objects.filter(services.run_quarantine(run)).order_by("row", "pk")
    ]
    batch = run.batch.seq if run.batch is not None else None
    sys.stdout.write(render_report(run.report, quarantined, args.lang, batch=batch))
    sys.stdout.write(_head_line(run.report.get("ledger"), args.lang))
    return 1 if run.rows_quarantined else 0


def _head_line(head: dict[str, Any] | None, lang: str) -> str:
    """The chain's end after the ingest, to be kept outside the database (``ledger verify --expect-head``)."""
    if not head:
        return ""
    if lang == "en":
        return f"Ledger: {head['batches']} batch(es), head #{head['seq']} {head['head']}\n"
    return f"数据链：{head['batches']} 个批次，链头 #{head['seq']} {head['head']}\n"


def _ledger(args: argparse.Namespace) -> int:
    _setup_django()
    from carbonmeter.readings.retention import RetentionError, verify_archive
    from carbonmeter.web.readings import services

    if args.ledger_command == "recover":
        done = services.recover()
        forward, back, built = len(done.rolled_forward), len(done.rolled_back), len(done.sums_built)
        print(
            f"rolled forward {forward} file(s), rolled back {back} staging folder(s), "
            f"built day sums for {built} file(s)"
        )
        sources = services.recover_sources()
        for pk in sources.finished:
            print(f"run {pk}: source file copy finished")
        for lost in sources.problems:
            print(lost)
        if sources.problems:
            print(
                f"{len(sources.problems)} run(s) without a whole source file: "
                "ingest the same file again to attach it"
            )
        return 0
    if args.ledger_command == "archive":
        try:
            manifest = services.archive(args.before, args.to, user=_user(args.user))
        except RetentionError as exc:
            raise _Refused(f"carbonmeter: {exc}") from exc
        for part in manifest.partitions:
            print(f"{part.org} {part.y:04d}-{part.m:02d}: {len(part.files)} file(s)")
        print(
            f"archived to {args.to} (manifest sha256 {manifest.sha256}); verify with: ledger verify --archive"
        )
        return 0
    if args.ledger_command == "anchor":
        anchor = services.anchor_now()
        if anchor is None:
            print("the ledger is empty: nothing to anchor")
        else:
            print(f"anchored: {anchor.batches} batch(es), head #{anchor.seq} {anchor.head}")
        return 0
    if args.archive:
        result = verify_archive(args.archive)
    else:
        result = services.verify_ledger(expect_head=args.expect_head)
    where = f"archive {args.archive}" if args.archive else "ledger"
    if result.ok:
        print(f"{where} OK: {result.batches} batch(es), {result.files} file(s)")
        return 0
    for problem in result.problems:
        print(problem)
    first = result.first_broken
    named = f"first broken batch: #{first}" if first is not None else "no batch named"
    print(f"{where} BROKEN: {len(result.problems)} problem(s); {named}")
    return 1


def _assess(args: argparse.Namespace) -> int:
    from carbonmeter.core.accounting import InputProblems
    from carbonmeter.core.assess import assess
    from carbonmeter.io.problems import Located
    from carbonmeter.io.snapshot_file import read_snapshot
    from carbonmeter.rules.loader import load_pack, pack_for

    # A short-lived run whose objects all live to the end: the cyclic collector would only re-scan a growing
    # heap (about a third of the time on a 20,000-instrument plant). Reference counting still frees garbage.
    gc.disable()
    if args.format == "xlsx" and args.output is None:
        print("carbonmeter: --format xlsx needs -o OUT.xlsx", file=sys.stderr)
        return EXIT_INVALID
    snapshot = read_snapshot(args.input)
    pack = load_pack(args.profile or pack_for(snapshot.organization.industry))
    try:
        result = assess(snapshot, pack, args.as_of, args.monte_carlo)
    except InputProblems as exc:
        raise SnapshotError(Located(str(args.input), p.pointer, p.message) for p in exc.problems) from exc
    if args.format == "xlsx":
        from carbonmeter.reports.xlsx import write_assessment_xlsx

        write_assessment_xlsx(result, snapshot, args.output)
        return 0
    if args.format == "json":
        import msgspec

        from carbonmeter.reports.document import to_document

        data = msgspec.json.encode(to_document(result)) + b"\n"
    else:
        from carbonmeter.reports.text import render_text

        data = render_text(result, snapshot).encode("utf-8")
    if args.output:
        args.output.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def _rules(args: argparse.Namespace) -> int:
    from carbonmeter.reports.pack_text import render_pack, render_pack_list
    from carbonmeter.rules.loader import builtin_pack_files, load_pack

    if args.rules_command == "list":
        sys.stdout.write(render_pack_list([load_pack(str(f)) for f in builtin_pack_files()]))
    else:
        sys.stdout.write(render_pack(load_pack(args.pack)))
    return 0


def _convert(args: argparse.Namespace) -> int:
    from carbonmeter.io.snapshot_file import read_snapshot
    from carbonmeter.io.snapshot_json import write_json
    from carbonmeter.io.snapshot_xlsx import write_xlsx

    snapshot = read_snapshot(args.input)
    suffix = args.output.suffix.lower()
    if suffix == ".json":
        write_json(snapshot, args.output)
    elif suffix == ".xlsx":
        write_xlsx(snapshot, args.output)
    else:
        print(f"carbonmeter: {args.output}: output must end in .json or .xlsx", file=sys.stderr)
        return EXIT_INVALID
    return 0


def _quality(args: argparse.Namespace) -> int:
    """``quality``: :func:`carbonmeter.readings.quality.point_month` on the lake, judged up to now."""
    import json
    from datetime import UTC, datetime

    from carbonmeter.readings import quality
    from carbonmeter.readings.lake import OrgReader
    from carbonmeter.rules.loader import load_pack

    wrap = load_pack(args.pack).settings.counter_max_wrap_fraction.value
    setup = quality.PointSetup(
        code=args.point,
        role="",
        quantity=args.quantity,
        expected_interval=args.interval,
        substitution=args.substitution,
        counter_modulus=args.modulus,
        max_wrap_fraction=None if wrap is None else float(wrap),
    )
    year, month = args.month
    try:
        reader = OrgReader(args.lake, args.org)
    except ValueError as exc:
        raise _Refused(f"carbonmeter: --org: {exc}") from exc
    with reader:
        r = quality.point_month(setup, date(year, month, 1), reader, now=datetime.now(UTC))
    out = {
        "point": args.point,
        "quantity": r.quantity,
        "month": f"{year:04d}-{month:02d}",
        "judged": [r.judged.start.isoformat(), r.judged.end.isoformat()],
        "problems": list(r.problems),
        "readings": r.readings,
        "superseded": r.superseded,
        "availability": r.availability,
        "missing_slots": None if r.report is None else r.report.missing_count,
        "measured": None if r.totals is None else r.totals.measured,
        "substituted": None if r.totals is None else r.totals.substituted,
        "unfilled_slots": None if r.totals is None else r.totals.unfilled_slots,
        "counter_total": None if r.counter is None else r.counter.total,
        "days": [
            {"day": d.day.isoformat(), "readings": d.readings, "missing": d.missing, "total": d.total}
            for d in r.days
            if d.judged
        ],
    }
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {
        "assess": _assess,
        "rules": _rules,
        "convert": _convert,
        "ingest": _ingest,
        "ledger": _ledger,
        "quality": _quality,
    }
    try:
        return handlers[args.command](args)
    except (SnapshotError, PackError) as exc:
        for line in str(exc).splitlines():
            print(line, file=sys.stderr)
        return EXIT_INVALID
    except _Refused as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
