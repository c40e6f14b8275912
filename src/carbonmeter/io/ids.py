"""Identifiers as people mean them: one function, used by every snapshot reader.

Registers come back from LibreOffice, WPS and Chinese input methods with ``'P08.2 '`` (a trailing space),
``Ｐ08.2`` (full-width letters and digits) or ``'赵敏 '``.  Matched literally, each imported as a *new* point,
instrument or person beside the existing one and changed the verdict (17 → 18 required points).

We normalise rather than refuse: the person typed the same id, and a refusal would make every user of a
full-width input method retype cells for no information gained.  Normalising is Unicode NFKC (full-width
Latin letters, digits and punctuation to ASCII, the ideographic space to a space) and then stripping
whitespace at both ends; nothing inside an id changes.  Two ids that normalise to one are then the same id,
and the integrity check reports the duplicate at its place, so nothing merges silently.

Normalised: the keys an import matches rows by and the references between objects — the organization's
credit code, the ids of streams, points and instruments, a point's stream, an instrument's points, a
calibration's instrument and certificate number, a person's name.  Names, titles and other text are left as
typed (NFKC would turn ``（试行）`` into ``(试行)``).
"""

from __future__ import annotations

import unicodedata
from typing import Any

import msgspec

from carbonmeter.core.snapshot import Snapshot


def normalize_id(text: str) -> str:
    """``text`` as an identifier: NFKC, then no whitespace at either end."""
    return unicodedata.normalize("NFKC", text).strip()


def replaced(obj: Any, **changes: Any) -> Any:
    """``obj`` with ``changes``, or ``obj`` itself when nothing changes (the everyday case costs little)."""
    changed = {k: v for k, v in changes.items() if getattr(obj, k) != v}
    return msgspec.structs.replace(obj, **changed) if changed else obj


def normalize_ids(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with every identifier and reference normalised by :func:`normalize_id`."""
    org = snapshot.organization
    return msgspec.structs.replace(
        snapshot,
        organization=replaced(org, credit_code=normalize_id(org.credit_code)),
        source_streams=tuple(
            replaced(s, id=normalize_id(s.id), facility=s.facility and normalize_id(s.facility))
            for s in snapshot.source_streams
        ),
        measuring_points=tuple(
            replaced(p, id=normalize_id(p.id), stream=normalize_id(p.stream))
            for p in snapshot.measuring_points
        ),
        instruments=tuple(
            replaced(i, id=normalize_id(i.id), points=tuple(normalize_id(r) for r in i.points))
            for i in snapshot.instruments
        ),
        calibrations=tuple(
            replaced(
                c,
                instrument=normalize_id(c.instrument),
                certificate_no=normalize_id(c.certificate_no),
            )
            for c in snapshot.calibrations
        ),
        personnel=tuple(replaced(p, name=normalize_id(p.name)) for p in snapshot.personnel),
        facilities=tuple(replaced(f, id=normalize_id(f.id)) for f in snapshot.facilities),
    )
