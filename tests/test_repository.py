"""What the repository itself holds: never an installation's data (a database carries password hashes)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_no_installation_data_is_tracked() -> None:
    """``var/`` is the installation's database, lake, media and cache: git ignores it and tracks nothing
    in it (CI runs in a clone, so ``git`` sees the repository)."""
    tracked = subprocess.run(
        ["git", "ls-files", "--", "var"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked == []
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "var/carbonmeter.sqlite3"], cwd=ROOT, capture_output=True, check=False
    )
    assert ignored.returncode == 0
