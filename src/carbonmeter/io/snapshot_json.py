"""Reading and writing the JSON form of a snapshot (contract §2).

Validation happens in pydantic-core straight from the bytes (no intermediate Python objects), which is what
keeps a 20,000-instrument plant well under a second.  Problems come back with JSON pointers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from carbonmeter.core.integrity import check_integrity
from carbonmeter.core.snapshot import Snapshot
from carbonmeter.io.problems import SnapshotError, pydantic_problems


def parse_json(data: bytes, source: str) -> Snapshot:
    """Validate a JSON snapshot; raise :class:`SnapshotError` naming ``source`` and a pointer per problem."""
    try:
        snapshot = Snapshot.model_validate_json(data)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            try:
                json.loads(data)
            except (json.JSONDecodeError, UnicodeDecodeError) as jexc:
                raise SnapshotError([f"{source}: not valid JSON: {jexc}"]) from exc
        raise SnapshotError(
            f"{source}: {ptr or '/'}: {reason}" for ptr, reason in pydantic_problems(exc)
        ) from exc
    problems = check_integrity(snapshot)
    if problems:
        raise SnapshotError(f"{source}: {p.pointer}: {p.message}" for p in problems)
    return snapshot


def to_jsonable(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as a JSON document, defaults left out so a file written and read back is unchanged."""
    doc: dict[str, Any] = snapshot.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    doc["schema"] = snapshot.schema_
    return doc


def write_json(snapshot: Snapshot, path: Path) -> None:
    path.write_text(json.dumps(to_jsonable(snapshot), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
