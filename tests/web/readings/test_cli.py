"""``carbonmeter ingest`` and ``carbonmeter ledger`` as a user runs them: real processes on a file database
and a lake, reports in Chinese and English, exit codes; and ``assess`` still never loads Django."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import CREDIT, MINI, ROOT, Installation

GOOD = "计量点,时间,数值,单位\nP1,2024-01-31 23:45,1.5,t\nP1,2024-02-01 00:00,1500,kg\n"
BAD = "point,ts,value\nP1,2024-03-01 00:00,abc\nP9,2024-03-01 00:00,1\nP1,2024-03-01 00:15,2\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_ingest_prints_the_report_in_chinese_then_english(installation: Installation, tmp_path: Path) -> None:
    path = write(tmp_path, "一月.csv", GOOD)
    first = installation.cli("ingest", str(path), "--org", CREDIT, "--user", "clerk")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[:3] == [
        "文件 一月.csv",
        "共 2 行：接收 2，重复 0，隔离 0",
        first.stdout.splitlines()[2],
    ]
    assert first.stdout.splitlines()[2].startswith("已写入批次 #1（内容哈希 ")
    again = installation.cli("ingest", str(path), "--org", CREDIT, "--lang", "en")
    assert again.returncode == 0
    assert "2 rows: 0 accepted, 2 duplicate, 0 quarantined" in again.stdout
    assert "the same content is already stored as batch #1; nothing written" in again.stdout
    assert "2–3: already stored by batch #1" in again.stdout


def test_quarantined_rows_exit_1_with_every_row_named(installation: Installation, tmp_path: Path) -> None:
    done = installation.cli("ingest", str(write(tmp_path, "bad.csv", BAD)), "--org", CREDIT, "--lang", "en")
    assert done.returncode == 1 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert "Accepted rows: 4" in lines
    assert "  row 2, column 'value': RD-PARSE 'abc' in column 'value' is not a finite number" in lines
    assert (
        "  row 3, column 'point': RD-POINT point 'P9' is not in the organization's monitoring plan" in lines
    )


def test_input_it_cannot_act_on_exits_2(installation: Installation, tmp_path: Path) -> None:
    good = str(write(tmp_path, "a.csv", GOOD))
    org = installation.cli("ingest", good, "--org", "NOPE")
    assert org.returncode == 2 and "NOPE" in org.stderr and org.stdout == ""
    user = installation.cli("ingest", good, "--org", CREDIT, "--user", "nobody")
    assert user.returncode == 2 and "nobody" in user.stderr
    unreadable = installation.cli("ingest", str(write(tmp_path, "x.csv", "a,b\n1,2\n")), "--org", CREDIT)
    assert unreadable.returncode == 2 and "x.csv" in unreadable.stderr and "计量点" in unreadable.stderr
    correction = installation.cli("ingest", good, "--org", CREDIT, "--corrects", "1")
    assert correction.returncode == 2 and "#1" in correction.stderr


def test_a_correction_from_the_command_line(installation: Installation, tmp_path: Path) -> None:
    assert installation.cli("ingest", str(write(tmp_path, "a.csv", GOOD)), "--org", CREDIT).returncode == 0
    fixed = write(tmp_path, "fix.csv", "point,ts,value\nP1,2024-01-31 23:45,1.75\n")
    refused = installation.cli("ingest", str(fixed), "--org", CREDIT, "--corrects", "1")
    assert refused.returncode == 2 and "reason" in refused.stderr
    done = installation.cli(
        "ingest", str(fixed), "--org", CREDIT, "--corrects", "1", "--reason", "misread", "--user", "clerk"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "已写入批次 #2" in done.stdout and "更正了 1 个已保存的值" in done.stdout
    assert installation.cli("ledger", "verify").returncode == 0


def test_ledger_verify_and_archive(installation: Installation, tmp_path: Path) -> None:
    old = write(tmp_path, "old.csv", "point,ts,value\nP1,2015-03-01,1\nP1,2015-04-01,2\nP1,2024-03-01,3\n")
    assert installation.cli("ingest", str(old), "--org", CREDIT).returncode == 0
    ok = installation.cli("ledger", "verify")
    assert ok.returncode == 0 and ok.stdout == "ledger OK: 1 batch(es), 3 file(s)\n"
    young = installation.cli("ledger", "archive", "--before", "2030-01", "--to", str(tmp_path / "young"))
    assert young.returncode == 2 and "younger" in young.stderr
    export = tmp_path / "export"
    done = installation.cli("ledger", "archive", "--before", "2016-01", "--to", str(export))
    assert done.returncode == 0, done.stderr
    assert f"{CREDIT} 2015-03: 1 file(s)" in done.stdout and f"{CREDIT} 2015-04: 1 file(s)" in done.stdout
    checked = installation.cli("ledger", "verify", "--archive", str(export))
    assert checked.returncode == 0 and "archive" in checked.stdout and "OK" in checked.stdout
    next(export.rglob("*.parquet")).write_bytes(b"tampered")
    tampered = installation.cli("ledger", "verify", "--archive", str(export))
    assert tampered.returncode == 1 and "first broken batch: #1" in tampered.stdout


def test_assess_never_loads_django(tmp_path: Path) -> None:
    out = tmp_path / "assessment.json"
    code = (
        "import sys\n"
        "from carbonmeter.cli.main import main\n"
        f"main(['assess', {str(MINI)!r}, '--format', 'json', '-o', {str(out)!r}])\n"
        "heavy = ('django', 'duckdb', 'pint')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]" and out.stat().st_size > 0


def test_ledger_recover_builds_missing_day_sums(installation: Installation, tmp_path: Path) -> None:
    """A lake from before the day sums (or one that lost them): verify names the file, recover rebuilds the
    sums, verify passes again."""
    assert installation.cli("ingest", str(write(tmp_path, "a.csv", GOOD)), "--org", CREDIT).returncode == 0
    sums_files = sorted((installation.lake / "_sums").rglob("*.parquet"))
    assert len(sums_files) == 2  # January and February
    before = sums_files[0].read_bytes()
    sums_files[0].unlink()
    broken = installation.cli("ledger", "verify")
    assert broken.returncode == 1 and "sums_missing" in broken.stdout and "#1" in broken.stdout
    done = installation.cli("ledger", "recover")
    assert done.returncode == 0 and "built day sums for 1 file(s)" in done.stdout
    assert sums_files[0].read_bytes() == before
    assert installation.cli("ledger", "verify").returncode == 0


def test_the_head_is_printed_anchored_and_checked(installation: Installation, tmp_path: Path) -> None:
    """Issue 9: every ingest report names the chain's end; ``ledger verify --expect-head`` fails when the
    ledger no longer reaches a head written down, and the anchor file catches a removed newest batch."""
    first = installation.cli("ingest", str(write(tmp_path, "a.csv", GOOD)), "--org", CREDIT)
    line = first.stdout.splitlines()[-1]
    assert line.startswith("数据链：1 个批次，链头 #1 ")
    head1 = line.split()[-1]
    second = installation.cli(
        "ingest",
        str(write(tmp_path, "b.csv", "point,ts,value\nP1,2024-03-01,3\n")),
        "--org",
        CREDIT,
        "--lang",
        "en",
    )
    head2 = second.stdout.splitlines()[-1].split()[-1]
    assert second.stdout.splitlines()[-1] == f"Ledger: 2 batch(es), head #2 {head2}"
    assert installation.cli("ledger", "verify", "--expect-head", head1).returncode == 0
    bad = installation.cli("ledger", "verify", "--expect-head", "xyz")
    assert bad.returncode == 2 and "64 hex digits" in bad.stderr
    # cut batch #2 off: its row, its files and their day sums
    installation.python(
        "from django.db import connection\n"
        "from carbonmeter.web.readings.models import BatchFile, IngestRun, ReadingBatch\n"
        "b = ReadingBatch.objects.get(seq=2)\n"
        "paths = list(BatchFile.objects.filter(batch=b).values_list('path', flat=True))\n"
        "c = connection.cursor()\n"
        "c.execute('UPDATE readings_ingestrun SET batch_id = NULL WHERE batch_id = %s', [b.pk])\n"
        "c.execute('DELETE FROM readings_batchfile WHERE batch_id = %s', [b.pk])\n"
        "c.execute('DELETE FROM readings_readingbatch WHERE id = %s', [b.pk])\n"
        "print('\\n'.join(paths))\n"
    )
    for data in installation.lake.glob("org=*/y=2024/m=03/b00000002-*.parquet"):
        data.unlink()
    for sums_file in (installation.lake / "_sums").glob("org=*/y=2024/m=03/b00000002-*.parquet"):
        sums_file.unlink()
    cut = installation.cli("ledger", "verify")
    assert cut.returncode == 1
    assert "anchor_unreached" in cut.stdout and "batch #2 is missing" in cut.stdout and head2 in cut.stdout
    by_hand = installation.cli("ledger", "verify", "--expect-head", head2)
    assert by_hand.returncode == 1 and "head_unreached" in by_hand.stdout
    # recovery does not re-anchor a ledger cut short
    assert installation.cli("ledger", "recover").returncode == 0
    assert installation.cli("ledger", "verify").returncode == 1


def test_hostile_files_exit_0_1_or_2_never_a_traceback(installation: Installation, tmp_path: Path) -> None:
    """What the readers' fuzz tests (tests/readings/test_fuzz.py) establish in-process, through the real
    command: each file gives the documented exit status — 1 for quarantined rows, 2 for a file it cannot
    act on — and a report or a one-line message, never a traceback."""
    files = {
        "negative-year.csv": (b"point,ts,value\nP1,2024-01-01 00:00,1\nP1,-0001-01-01 00:00,1\n", 1),
        "offsets.csv": (b"point,ts,value\nP1,2024-01-01 00:00+99:00,1\nP1,2024-01-01 00:00 CST,1\n", 1),
        "bad-byte.csv": (b"point,ts,value\nP1,2024-01-02 00:00,1\nP1,\xff\nP1,2024-01-02 00:15,2\n", 1),
        "bad-header.csv": (b"po\xffint,ts,value\nP1,2024-01-01 00:00,1\n", 2),
        "random.parquet": (bytes(range(256)), 2),
        "random.xlsx": (b"PK\x03\x04" + bytes(200), 2),
        "empty.csv": (b"", 2),
        "utf16.csv": ("point,ts,value\nP1,2024-01-03 00:00,1\n".encode("utf-16"), 0),
    }
    for name, (data, status) in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        done = installation.cli("ingest", str(path), "--org", CREDIT, "--lang", "en")
        assert done.returncode == status, (name, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and "Exception" not in done.stderr, (name, done.stderr)
        if status == 2:
            assert name in done.stderr and done.stdout == ""
    rerun = installation.cli("ingest", str(tmp_path / "bad-byte.csv"), "--org", CREDIT, "--lang", "en")
    assert rerun.returncode == 1  # the same quarantined row, listed again though not created again
    assert "row 3: RD-PARSE the row holds bytes that are not UTF-8 text" in rerun.stdout


def test_a_ledger_without_anchors_is_named_until_anchored(installation: Installation, tmp_path: Path) -> None:
    """A lake from before anchors were kept (or one whose anchor file was removed): verify says so, and
    ``ledger anchor`` records the current head once a person has checked the ledger."""
    assert installation.cli("ingest", str(write(tmp_path, "a.csv", GOOD)), "--org", CREDIT).returncode == 0
    (installation.lake / "_anchors.jsonl").unlink()
    missing = installation.cli("ledger", "verify")
    assert missing.returncode == 1 and "anchor_missing" in missing.stdout
    assert installation.cli("ledger", "recover").returncode == 0  # recovery never anchors from nothing
    assert installation.cli("ledger", "verify").returncode == 1
    anchored = installation.cli("ledger", "anchor")
    assert anchored.returncode == 0 and anchored.stdout.startswith("anchored: 1 batch(es), head #1 ")
    assert installation.cli("ledger", "verify").returncode == 0
