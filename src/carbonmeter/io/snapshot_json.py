"""Reading and writing the JSON form of a snapshot (contract §2)."""

from __future__ import annotations

import json
from pathlib import Path

from carbonmeter.core.snapshot import Snapshot
from carbonmeter.io.snapshot_schema import decode_json, to_jsonable

__all__ = ["parse_json", "to_jsonable", "write_json"]


def parse_json(data: bytes, source: str) -> Snapshot:
    """Validate a JSON snapshot; :class:`SnapshotError` names ``source`` and a JSON pointer per problem."""
    return decode_json(data, source)


def write_json(snapshot: Snapshot, path: Path) -> None:
    path.write_text(json.dumps(to_jsonable(snapshot), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
