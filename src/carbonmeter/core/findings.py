"""A finding: one nonconformity or observation, tied to its clause, its subject and its evidence.

Validators emit a code and parameters, never prose: the zh/en messages are rendered at the edge from the
message catalogue (``rules/messages.yaml``), so a wording fix never touches an engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from carbonmeter.rules.schema import Severity


@dataclass(slots=True)
class Finding:
    """Treated as immutable once ``assess`` returns it (not frozen: frozen dataclasses are slow to build, and
    ``assess`` fills ``root_cause`` in place after the validators, see ``core/root_cause.py``)."""

    code: str
    clause: str
    severity: Severity
    #: Id of the point, instrument, stream, person or document concerned, or ``organization``.
    subject: str
    params: dict[str, Any] = field(default_factory=dict)
    #: The facts the verdict used (which record, which instruments, which value), for the verifier.
    evidence: dict[str, Any] = field(default_factory=dict)
    #: True when the verdict rests on a value the pack tags ``provisional``.
    provisional: bool = False
    #: §6.4.4: the untraceable instrument a finding on a point comes from (reports group by it).
    root_cause: str | None = None
    #: §6.3: the annual emissions (t CO2e) of the streams the point or instrument serves.
    tonnes_at_stake: float | None = None


#: What the engine could not judge (contract §6.4.3).
NotJudgedWhat = Literal["accuracy", "uncertainty", "emissions"]


@dataclass(frozen=True, slots=True)
class NotJudged:
    """Something the engine cannot judge: not a finding about the plant, but a gap in the rules or the data.

    Like a finding, it carries a catalogue code and parameters; the zh/en ``reason`` is rendered at the edge.
    """

    subject: str
    what: NotJudgedWhat
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    provisional: bool = False
