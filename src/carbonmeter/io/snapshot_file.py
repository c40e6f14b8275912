"""Read a snapshot from a file, choosing the form by its suffix (``.json`` or ``.xlsx``)."""

from __future__ import annotations

from pathlib import Path

from carbonmeter.core.snapshot import Snapshot
from carbonmeter.io.problems import SnapshotError, located, quote


def read_snapshot(path: Path) -> Snapshot:
    """The snapshot in ``path``; :class:`SnapshotError` with every located problem if it is invalid."""
    if not path.is_file():
        raise SnapshotError([located(str(path), "IMP-39")])
    suffix = path.suffix.lower()
    if suffix == ".json":
        from carbonmeter.io.snapshot_json import parse_json

        return parse_json(path.read_bytes(), str(path))
    if suffix == ".xlsx":
        from carbonmeter.io.snapshot_xlsx import read_xlsx

        return read_xlsx(path)
    raise SnapshotError([located(str(path), "IMP-40", suffix=quote(suffix))])
